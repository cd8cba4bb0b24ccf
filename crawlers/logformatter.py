"""Scrapy's log lines about items, one line each: the URL and the reason, never the item itself (a page's
whole HTML and raw response, megabytes for one nested page)."""
from __future__ import annotations

from itemadapter import ItemAdapter
from scrapy import logformatter


def url_of(item, response) -> str:
    url = ItemAdapter(item).get("url") if ItemAdapter.is_item(item) else None
    return url or getattr(response, "url", "") or "(no URL)"


class LogFormatter(logformatter.LogFormatter):
    """Levels stay Scrapy's: a dropped item at its DropItem's log_level (the pipelines lower expected drops,
    like unchanged pages), else DEFAULT_DROPITEM_LOG_LEVEL."""

    def scraped(self, item, response, spider):
        return {**super().scraped(item, response, spider), "msg": "scraped %(url)s",
                "args": {"url": url_of(item, response)}}

    def dropped(self, item, exception, response, spider):
        return {**super().dropped(item, exception, response, spider), "msg": "dropped %(url)s: %(reason)s",
                "args": {"url": url_of(item, response), "reason": exception}}

    def item_error(self, item, exception, response, spider):
        return {**super().item_error(item, exception, response, spider), "msg": "error processing %(url)s",
                "args": {"url": url_of(item, response)}}
