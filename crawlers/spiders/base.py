"""What every Vigil spider shares: its source from the sources file, a crawl job id, page items."""
from __future__ import annotations

import logging
import uuid

import scrapy
from scrapy.http import TextResponse

from crawlers.evidence import EvidenceArchive, archived, http_record
from crawlers.extract import canonical_url
from crawlers.images import images_to_fetch, shown_images
from crawlers.items import PageItem
from crawlers.pipelines import vigil_settings
from crawlers.sources import load_sources
from crawlers.state import CrawlState
from streams.config import load_settings
from streams.schemas import utcnow
from streams.stores import SearchQuery, open_store

log = logging.getLogger(__name__)

FLAGGED_PAGE_PRIORITY = 10


def flagged_urls(settings, source_id: str, limit: int = 10_000) -> set[str]:
    """Canonical URLs of this source's flagged documents, from the store (empty if it cannot be read)."""
    try:
        with open_store(settings) as store:
            hits = store.search(SearchQuery(flagged=True, source=source_id, limit=limit)).hits
    except Exception as exc:  # the crawl goes on without priorities
        log.warning("flagged pages of %s not read, no crawl priorities: %s", source_id, exc)
        return set()
    return {canonical_url(hit.url) for hit in hits}


class VigilSpider(scrapy.Spider):
    """Crawls one source: `scrapy crawl KIND -a source=ID [-a sources=FILE] [-a job=ID]`."""

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = vigil_settings(crawler)
        spider.crawl_state = CrawlState(settings.data_dir, spider.source.id)
        if settings.crawler.archive:
            spider.archive = EvidenceArchive(settings.crawler.archive_dir or settings.data_dir / "evidence")
        spider.flagged_urls = flagged_urls(settings, spider.source.id)
        spider.fetch_images = crawler.settings.getbool("VIGIL_FETCH_IMAGES")
        spider.max_images = crawler.settings.getint("VIGIL_MAX_IMAGES_PER_PAGE")
        if spider.source.retain_media and spider.archive is None:
            spider.logger.warning("source %s: retain_media is set but crawler.archive is off; images are kept "
                                  "as hashes only", spider.source.id)
        # The source's politeness settings; the crawler's settings are not frozen until the spider exists.
        for name, value in spider.source.scrapy_settings().items():
            crawler.settings.set(name, value, priority="cmdline")
        if spider.source.robots == "ignore":
            spider.logger.warning("source %s: robots.txt is ignored by its configuration", spider.source.id)
        return spider

    def __init__(self, source: str | None = None, sources: str | None = None, job: str | None = None, **kwargs):
        super().__init__(**kwargs)
        if not source:
            raise ValueError(f"spider {self.name} needs a source: scrapy crawl {self.name} -a source=ID")
        known = load_sources(sources or load_settings().crawler.sources_file)
        if source not in known:
            raise ValueError(f"no source {source!r} in the sources file (known: {', '.join(sorted(known))})")
        self.source = known[source]
        self.allowed_domains = self.source.domains()
        self.start_urls = list(self.source.start_urls)
        self.crawl_job = job or f"{source}-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self.pages = 0  # pages yielded, against the source's max_pages budget
        self.crawl_state: CrawlState | None = None  # what earlier runs saw (`state` is Scrapy's JOBDIR dict)
        self.state_rows: dict[str, dict] = {}  # document id -> what to remember once it is published
        self.archive: EvidenceArchive | None = None
        self.flagged_urls: set[str] = set()  # pages of this source the classifier flagged on earlier runs
        self.fetch_images = False  # VIGIL_FETCH_IMAGES, once the crawler is known
        self.max_images = 0

    def priority_for_links_on(self, response) -> int:
        """Links found on a page flagged before are crawled first: where one violating page is, more are."""
        if canonical_url(response.url) in self.flagged_urls:
            self.crawler.stats.inc_value("vigil/prioritised_pages")
            return FLAGGED_PAGE_PRIORITY
        return 0

    def closed(self, reason):
        if self.crawl_state is not None:
            self.crawl_state.close()

    async def start(self):
        # Scrapy exempts start requests from its duplicate filter; a start page linked from its own
        # pages (a home page) would then be fetched and published twice.
        for url in self.start_urls:
            yield scrapy.Request(url, dont_filter=False)

    def raw_response(self, response) -> dict | None:
        """What the archive needs of a response (None when nothing is archived)."""
        if self.archive is None or response.meta.get("vigil_synthetic"):
            return None
        return http_record(response)

    def capture(self, response) -> dict | None:
        """The response as WARC evidence now, once per response however many posts it holds (whole pages
        are archived by the document pipeline's worker process instead, off the download thread)."""
        if "vigil_capture" not in response.meta:
            raw = self.raw_response(response)
            response.meta["vigil_capture"] = archived(self.archive, raw, utcnow()) if raw else None
        return response.meta["vigil_capture"]

    def images_on(self, response, urls: list[str]) -> list[str]:
        """The images to fetch of those an item of this response shows; beyond max_images_per_page per
        response they are cut (counted, vigil/cut/images_per_page)."""
        if not self.fetch_images or not urls:
            return []
        chosen, cut = images_to_fetch(response, urls, self.max_images)
        if cut:
            self.crawler.stats.inc_value("vigil/cut/images_per_page", cut)
            self.logger.debug("%d images on %s not fetched (max_images_per_page)", cut, response.url)
        return chosen

    def page_item(self, response: TextResponse, published_hint=None, sitemap_lastmod=None) -> PageItem:
        self.pages += 1
        header = lambda name: response.headers.get(name, b"").decode("latin-1") or None  # noqa: E731
        return PageItem(
            url=response.url, status=response.status, content_type=header(b"Content-Type") or "",
            raw_response=self.raw_response(response), html=response.text, source=self.source.id,
            language_hint=self.source.language,
            depth=response.meta.get("depth", 0), crawl_job=self.crawl_job, spider=self.name, fetched_at=utcnow(),
            etag=header(b"ETag"), last_modified=header(b"Last-Modified"), published_hint=published_hint,
            sitemap_lastmod=sitemap_lastmod, image_urls=self.images_on(response, shown_images(response)),
        )
