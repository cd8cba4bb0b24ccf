"""The `forum` spider: thread listings and threads across their pages; each post becomes a document with
its permalink (the thread page and the post's anchor), its author (pseudonymised when published), its time
and the thread's title. Selectors come from the source: a preset (phpbb, vbulletin, xenforo, discourse)
or the source's own."""
from __future__ import annotations

import scrapy
from scrapy.http import TextResponse

from crawlers.images import shown_images, web_links
from crawlers.spiders.base import VigilSpider
from crawlers.spiders.posts import first, post_item, text_of


class ForumSpider(VigilSpider):
    name = "forum"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.selectors = self.source.forum_selectors()

    async def start(self):
        for url in self.start_urls:
            # Listing and thread pages lead to new pages, so they are fetched whole (never conditionally);
            # posts unchanged since the last run are dropped by their text.
            yield scrapy.Request(url, callback=self.parse_listing, meta={"vigil_follow_links": True})

    def follow(self, response, url, callback, priority: int):
        absolute = response.urljoin(url)
        if self.source.in_scope(absolute) and self.pages < self.source.max_pages:
            return response.follow(absolute, callback=callback, meta={"vigil_follow_links": True}, priority=priority)
        return None

    def parse_listing(self, response):
        if not isinstance(response, TextResponse):
            return
        priority = self.priority_for_links_on(response)
        for href in response.css(self.selectors.thread_links).getall():
            if request := self.follow(response, href, self.parse_thread, priority):
                yield request
        next_page = first(response, self.selectors.next_page)
        if next_page and response.meta.get("depth", 0) < self.source.max_depth:
            if request := self.follow(response, next_page, self.parse_listing, priority):
                yield request

    def parse_thread(self, response):
        if not isinstance(response, TextResponse):
            return
        s = self.selectors
        title = first(response, s.title) or response.css("title::text").get("").strip()
        page_url = response.url.split("#")[0]
        for post in response.css(s.post):
            if self.pages >= self.source.max_pages:
                return
            post_id = first(post, s.post_id)
            body = post.css(s.body)
            text = text_of(body)
            if not post_id or not text:
                self.crawler.stats.inc_value("vigil/forum/posts_without_id_or_text")
                continue
            media = web_links(response, shown_images(body[:1]))
            yield post_item(self, response, url=f"{page_url}#{post_id}", text=text, title=title,
                            author=first(post, s.author), posted=first(post, s.time),
                            post={"post_id": post_id, "thread_title": title, "thread_url": page_url,
                                  "media": media}, images=media)
        next_page = first(response, s.next_page)
        if next_page:
            if request := self.follow(response, next_page, self.parse_thread, self.priority_for_links_on(response)):
                yield request
