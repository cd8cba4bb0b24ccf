"""What the forum and telegram spiders share: a post cut out of a page becomes a page item of its own."""
from __future__ import annotations

from collections.abc import Sequence

from scrapy.http import TextResponse

from crawlers.images import IMAGE_PATH
from crawlers.items import PageItem
from crawlers.spiders.feed import parse_date
from streams.schemas import utcnow


def text_of(selected) -> str:
    """The visible text of the first selected element, a line per text node, whitespace normalised."""
    if not selected:
        return ""
    texts = selected[0].xpath(".//text()[not(ancestor::script or ancestor::style)]").getall()
    lines = (" ".join(t.split()) for t in texts)
    return "\n".join(line for line in lines if line)


def first(selector, css: str) -> str | None:
    value = selector.css(css).get()
    return value.strip() if value else None


def post_item(spider, response: TextResponse, *, url: str, text: str, title: str, author: str | None,
              posted: str | None, post: dict, images: Sequence[str] = ()) -> PageItem:
    """A post's page item; `images`, the pictures it shows, are fetched and hashed with its media links that
    name a picture."""
    spider.pages += 1
    shown = list(images) + [link for link in post.get("media", ()) if IMAGE_PATH.search(link.split("?")[0])]
    return PageItem(
        url=url, status=response.status, content_type="text/html", html="", source=spider.source.id,
        language_hint=spider.source.language, depth=response.meta.get("depth", 0), crawl_job=spider.crawl_job,
        spider=spider.name, fetched_at=utcnow(), published_hint=parse_date(posted), text=text, title=title,
        author=author, post=post, archive=spider.capture(response), image_urls=spider.images_on(response, shown))
