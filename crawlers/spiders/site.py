"""The `site` spider: follows links within a source's domains, to its max depth."""
from __future__ import annotations

from scrapy.exceptions import CloseSpider
from scrapy.http import TextResponse
from scrapy.linkextractors import LinkExtractor

from crawlers.spiders.base import VigilSpider


class SiteSpider(VigilSpider):
    name = "site"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Scope is enforced by Scrapy's OffsiteMiddleware on allowed_domains (it ignores ports, unlike allow_domains).
        self.links = LinkExtractor(unique=True, allow=self.source.include, deny=self.source.exclude)

    async def start(self):
        async for request in super().start():
            request.meta["vigil_follow_links"] = self.source.max_depth > 0
            yield request

    def parse(self, response):
        if not isinstance(response, TextResponse):
            self.logger.info("skipped %s: not a text response", response.url)
            return
        if self.pages >= self.source.max_pages:
            raise CloseSpider(f"max_pages ({self.source.max_pages}) reached")
        yield self.page_item(response)
        depth = response.meta.get("depth", 0)
        if depth < self.source.max_depth and self.pages < self.source.max_pages:
            priority = self.priority_for_links_on(response)
            for link in self.links.extract_links(response):
                # Pages at the last depth are leaves: asked for conditionally, skipped when unchanged.
                yield response.follow(link.url, callback=self.parse, priority=priority,
                                      meta={"vigil_follow_links": depth + 1 < self.source.max_depth})
