"""The `sitemap` spider: sitemap and sitemap-index files (gzipped too); pages whose <lastmod> is no newer
than on the last run are skipped without a request."""
from __future__ import annotations

from scrapy.http import TextResponse
from scrapy.spiders import SitemapSpider as ScrapySitemapSpider

from crawlers.spiders.base import VigilSpider
from crawlers.spiders.feed import parse_date


class SitemapSpider(VigilSpider, ScrapySitemapSpider):
    name = "sitemap"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sitemap_urls = list(self.start_urls)
        self._lastmod: dict[str, str] = {}

    async def start(self):
        async for request in ScrapySitemapSpider.start(self):
            request.meta["vigil_xml"] = True
            yield request

    def _parse_sitemap(self, response):
        for request in super()._parse_sitemap(response):
            if request.callback is not None and request.callback == self._parse_sitemap:
                request.meta["vigil_xml"] = True  # a nested sitemap
            yield request

    def sitemap_filter(self, entries):
        """Pages in scope and changed since the last run (by <lastmod>); nested sitemaps always."""
        if getattr(entries, "type", "urlset") != "urlset":
            yield from entries
            return
        for entry in entries:
            url = entry.get("loc", "")
            if not self.source.in_scope(url):
                continue
            lastmod = entry.get("lastmod")
            if lastmod and self.crawl_state is not None and self.crawl_state.sitemap_lastmod(url) == lastmod:
                self.crawler.stats.inc_value("vigil/unchanged/sitemap_lastmod")
                continue
            if lastmod:
                self._lastmod[url] = lastmod
            yield entry

    def parse(self, response):
        if not isinstance(response, TextResponse):
            return
        if self.pages >= self.source.max_pages:
            return
        lastmod = self._lastmod.get(response.url)
        yield self.page_item(response, published_hint=parse_date(lastmod), sitemap_lastmod=lastmod)
