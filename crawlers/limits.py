"""What one crawl of a source may cost: requests scheduled, links followed per page. Whatever is cut is counted
(vigil/cut/*, in the crawl's figures) and said in one log line.

max_pages counts published documents only; these bound the work itself, 404s, errors and dropped pages
included. The request bound also bounds the scheduler's memory: its queue never holds more requests."""
from __future__ import annotations

import logging

from scrapy import Request, signals
from scrapy.core.scheduler import Scheduler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware

log = logging.getLogger(__name__)


class BoundedScheduler(Scheduler):
    """Scrapy's scheduler, storing at most VIGIL_MAX_REQUESTS requests in one crawl: every request it stores
    counts (retries and redirects too); robots.txt, fetched beside the scheduler, does not."""

    def open(self, spider):
        self.max_requests = self.crawler.settings.getint("VIGIL_MAX_REQUESTS")
        self.scheduled = self.cut = 0
        return super().open(spider)

    def enqueue_request(self, request: Request) -> bool:
        if self.scheduled < self.max_requests:
            stored = super().enqueue_request(request)
            self.scheduled += stored
            return stored
        if not self.cut:
            log.info("%s: %d requests scheduled, the most one crawl may (max_requests_per_source); the rest are cut",
                     self.spider.source.id, self.scheduled)
        # Counted without asking the duplicate filter, which would remember every URL cut (memory again).
        self.cut += 1
        self.stats.inc_value("vigil/cut/requests_per_source")
        return False


class LinksPerPageMiddleware:
    """A spider middleware: follows at most VIGIL_MAX_LINKS_PER_PAGE requests from one response, items all pass.
    Links to other sites are not counted (the offsite middleware drops them anyway), so a long list of external
    links does not crowd out a page's own."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats
        self.max_links = crawler.settings.getint("VIGIL_MAX_LINKS_PER_PAGE")
        self.offsite: OffsiteMiddleware | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_opened(self, spider):
        self.offsite = self.crawler.get_downloader_middleware(OffsiteMiddleware)

    def process_spider_output(self, response, result):
        page = _PageLinks(self)
        for output in result:
            if page.takes(output):
                yield output
        page.report(response)

    async def process_spider_output_async(self, response, result):
        page = _PageLinks(self)
        async for output in result:
            if page.takes(output):
                yield output
        page.report(response)


class _PageLinks:
    """The links of one response, counted against the bound."""

    def __init__(self, bound: LinksPerPageMiddleware):
        self.bound = bound
        self.taken = self.cut = 0

    def takes(self, output) -> bool:
        if not isinstance(output, Request):
            return True
        offsite, spider = self.bound.offsite, self.bound.crawler.spider
        if offsite is not None and not offsite.should_follow(output, spider):
            return True  # dropped as off-site when scheduled, and not counted here
        if self.taken >= self.bound.max_links:
            self.cut += 1
            return False
        self.taken += 1
        return True

    def report(self, response) -> None:
        if self.cut:
            self.bound.stats.inc_value("vigil/cut/links_per_page", self.cut)
            log.info("followed %d of the %d links on %s (max_links_per_page); the rest are cut", self.taken,
                     self.taken + self.cut, response.url)
