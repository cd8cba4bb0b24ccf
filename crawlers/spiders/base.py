"""What every Vigil spider shares: its source from the registry, a crawl job id, page items."""
from __future__ import annotations

import uuid

import scrapy
from scrapy.http import TextResponse

from crawlers.items import PageItem
from crawlers.sources import load_sources
from streams.config import load_settings
from streams.schemas import utcnow


class VigilSpider(scrapy.Spider):
    """Crawls one source: `scrapy crawl KIND -a source=ID [-a sources=FILE] [-a job=ID]`."""

    def __init__(self, source: str | None = None, sources: str | None = None, job: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if not source:
            raise ValueError(f"spider {self.name} needs a source: scrapy crawl {self.name} -a source=ID")
        registry = load_sources(sources or load_settings().crawler.sources_file)
        if source not in registry:
            raise ValueError(f"no source {source!r} in the sources file (known: {', '.join(sorted(registry))})")
        self.source = registry[source]
        self.allowed_domains = self.source.domains()
        self.start_urls = list(self.source.start_urls)
        self.crawl_job = job or f"{source}-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.pages = 0  # pages yielded, against the source's max_pages budget

    async def start(self):
        # Scrapy exempts start requests from its duplicate filter; a start page linked from its own
        # pages (a home page) would then be fetched and published twice.
        for url in self.start_urls:
            yield scrapy.Request(url, dont_filter=False)

    def page_item(self, response: TextResponse) -> PageItem:
        self.pages += 1
        return PageItem(
            url=response.url, status=response.status,
            content_type=response.headers.get(b"Content-Type", b"").decode("latin-1"),
            html=response.text, source=self.source.id, language_hint=self.source.language,
            depth=response.meta.get("depth", 0), crawl_job=self.crawl_job, spider=self.name, fetched_at=utcnow(),
        )
