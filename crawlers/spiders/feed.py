"""The `feed` spider: RSS 2.0 and Atom feeds; one document per entry, from the page the entry links to
(its full text), or from the entry's own content when that page cannot be fetched."""
from __future__ import annotations

from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

import scrapy
from scrapy.http import TextResponse

from crawlers.middlewares import NotModified
from crawlers.spiders.base import VigilSpider


def parse_date(text: str | None):
    """RFC 822 (RSS) or ISO 8601 (Atom) dates; None when absent or unreadable."""
    if not text:
        return None
    text = text.strip()
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


class FeedSpider(VigilSpider):
    name = "feed"

    async def start(self):
        for url in self.start_urls:
            yield scrapy.Request(url, callback=self.parse_feed, meta={"vigil_xml": True}, dont_filter=True)

    def entries(self, response):
        """(link, title, published, content) for each RSS item or Atom entry."""
        selector = response.selector
        selector.remove_namespaces()
        for item in selector.xpath("//item"):
            yield (item.xpath("link/text()").get("").strip(), item.xpath("title/text()").get(""),
                   item.xpath("pubDate/text()").get() or item.xpath("date/text()").get(),
                   item.xpath("encoded/text()").get() or item.xpath("description/text()").get(""))
        for entry in selector.xpath("//entry"):
            link = (entry.xpath("link[@rel='alternate']/@href").get() or entry.xpath("link[not(@rel)]/@href").get()
                    or entry.xpath("link/@href").get() or "")
            yield (link.strip(), entry.xpath("title/text()").get(""),
                   entry.xpath("published/text()").get() or entry.xpath("updated/text()").get(),
                   entry.xpath("content/text()").get() or entry.xpath("summary/text()").get(""))

    def parse_feed(self, response):
        if not isinstance(response, TextResponse):
            self.logger.warning("%s is not a feed (not text); skipped", response.url)
            return
        count = 0
        for link, title, published, content in self.entries(response):
            if not link or not self.source.in_scope(response.urljoin(link)):
                continue
            count += 1
            if self.pages + count > self.source.max_pages:
                break
            entry = {"title": title, "published": parse_date(published), "content": content}
            yield response.follow(link, callback=self.parse_entry, errback=self.entry_page_failed,
                                  cb_kwargs={"entry": entry}, meta={"vigil_entry": entry})
        self.crawler.stats.inc_value("vigil/feed_entries", count)

    def parse_entry(self, response, entry):
        if not isinstance(response, TextResponse):
            return
        yield self.page_item(response, published_hint=entry["published"])

    def entry_page_failed(self, failure):
        """The linked page could not be fetched (or was refused): the entry's own content is the document."""
        request = failure.request
        entry = request.meta["vigil_entry"]
        if failure.check(NotModified) or not entry["content"]:
            return  # unchanged since the last run, or nothing to fall back on
        self.crawler.stats.inc_value("vigil/feed_entries_from_content")
        html = (f"<html><head><title>{entry['title']}</title></head>"
                f"<body><article>{entry['content']}</article></body></html>")
        response = TextResponse(request.url, body=html.encode("utf-8"), encoding="utf-8", request=request,
                                headers={"Content-Type": "text/html; charset=utf-8"})
        response.meta["vigil_synthetic"] = True  # built from the feed, never fetched: nothing to archive
        yield self.page_item(response, published_hint=entry["published"])
