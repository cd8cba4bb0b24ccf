"""The `telegram` spider: public channel previews (https://t.me/s/CHANNEL), paging back with ?before=ID;
one document per message with its permalink, time, views, the channel it was forwarded from, and its
media links (recorded; its photos are fetched and hashed, crawlers/images.py). Only public previews Telegram
serves to any browser."""
from __future__ import annotations

import re

import scrapy
from scrapy.http import TextResponse

from crawlers.spiders.base import VigilSpider
from crawlers.spiders.posts import first, post_item, text_of

BACKGROUND_URL = re.compile(r"url\(['\"]?([^'\")]+)")


def count(text: str | None) -> int | None:
    """'1.2K' -> 1200, '3M' -> 3000000, '845' -> 845."""
    if not text:
        return None
    match = re.fullmatch(r"([\d.]+)\s*([KkMm]?)", text.strip())
    if not match:
        return None
    return int(float(match.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[match.group(2).lower()])


class TelegramSpider(VigilSpider):
    name = "telegram"

    async def start(self):
        for url in self.start_urls:
            if "/s/" not in url:
                self.logger.error("source %s: %s is not a channel preview (https://t.me/s/CHANNEL)",
                                  self.source.id, url)
                continue
            yield scrapy.Request(url, callback=self.parse, meta={"vigil_follow_links": True, "channel_url": url})

    def parse(self, response):
        if not isinstance(response, TextResponse):
            return
        ids = []
        for message in response.css("div.tgme_widget_message[data-post]"):
            if self.pages >= self.source.max_pages:
                return
            data_post = message.attrib["data-post"]  # "channel/123"
            ids.append(int(data_post.rsplit("/", 1)[-1]))
            text = text_of(message.css("div.tgme_widget_message_text"))
            if not text:
                continue  # media without a caption: nothing to classify
            photos = [m for m in (BACKGROUND_URL.search(style).group(1) for style in
                                  message.css("a.tgme_widget_message_photo_wrap::attr(style)").getall()
                                  if BACKGROUND_URL.search(style))]
            media = photos + message.css("video::attr(src), a.tgme_widget_message_document_wrap::attr(href)").getall()
            permalink = first(message, "a.tgme_widget_message_date::attr(href)") or f"https://t.me/{data_post}"
            yield post_item(self, response, url=permalink, text=text,
                            title=first(message, "div.tgme_widget_message_owner_name span::text") or data_post,
                            author=data_post.split("/")[0], posted=first(message, "time::attr(datetime)"),
                            post={"post_id": data_post, "thread_url": response.meta["channel_url"],
                                  "views": count(first(message, "span.tgme_widget_message_views::text")),
                                  "forwarded_from":
                                      first(message, "a.tgme_widget_message_forwarded_from_name::attr(href)")
                                      or first(message, ".tgme_widget_message_forwarded_from_name span::text"),
                                  "media": media}, images=photos)
        if ids and response.meta.get("depth", 0) < self.source.max_depth and self.pages < self.source.max_pages:
            base = response.meta["channel_url"].split("?")[0]
            yield scrapy.Request(f"{base}?before={min(ids)}", callback=self.parse,
                                 meta={"vigil_follow_links": True, "channel_url": base})
