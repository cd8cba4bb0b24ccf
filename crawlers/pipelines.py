"""Item pipelines: build a raw document from a fetched page (with the hashes of the images it shows), then
publish it to the raw topic."""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import secrets
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from urllib.parse import urlsplit

from scrapy.exceptions import DropItem

from crawlers.evidence import EvidenceArchive, archived
from crawlers.extract import Analysis, Extracted, analyse, canonical_url, extract_and_analyse, pseudonymise
from crawlers.images import ImageFetcher
from streams.config import VigilSettings, load_settings
from streams.schemas import RawDocument, document_id
from streams.transports import open_transport

log = logging.getLogger(__name__)


def vigil_settings(crawler) -> VigilSettings:
    """The settings `vigil crawl` handed over, or those from the config file and environment."""
    return crawler.settings.get("VIGIL_SETTINGS") or load_settings()


def author_key(settings: VigilSettings) -> bytes:
    """The HMAC key for author pseudonyms: configured, or generated once and kept in data_dir."""
    if settings.crawler.author_key:
        return settings.crawler.author_key.get_secret_value().encode("utf-8")
    path = settings.data_dir / "author.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip().encode("utf-8")


def page_work(html: str, url: str, max_chars: int, language_hint: str | None, archive_root, raw: dict | None,
              fetched_at) -> tuple[Analysis, dict | None]:
    """A page's CPU work, in the worker process: extraction, language, hashes, and its WARC capture."""
    capture = archived(EvidenceArchive(archive_root), raw, fetched_at) if archive_root and raw else None
    return extract_and_analyse(html, url, max_chars, language_hint), capture


class DocumentPipeline:
    """PageItem -> RawDocument: main text, title, language, canonical URL, hashes, pseudonymised author, and the
    hashes of the images the page or post shows (crawlers/images.py; VIGIL_FETCH_IMAGES)."""

    def __init__(self, settings: VigilSettings, crawler):
        self.max_chars = settings.crawler.max_text_chars
        self.key = author_key(settings)
        self.crawler = crawler
        self.stats = crawler.stats
        # Extraction is the crawl's CPU work: a worker process does it, so the reactor keeps downloading
        # on the other core (threads would contend for the GIL).
        self.extractor = self._worker()
        # Images are fetched once a document is sure to be built (not for dropped or unchanged pages), and
        # hashed by the same worker.
        self.images = ImageFetcher(crawler, self.submit) if crawler.settings.getbool("VIGIL_FETCH_IMAGES") else None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(vigil_settings(crawler), crawler)

    @staticmethod
    def _worker() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn, *args) -> Future:
        """Run fn in the worker process. A worker that died (a decoder crashing on a hostile image, the kernel
        killing it for memory) fails what it held; a fresh one takes the rest, so the crawl goes on."""
        try:
            return self.extractor.submit(fn, *args)
        except BrokenProcessPool:
            self.stats.inc_value("vigil/worker_restarts")
            log.warning("the extraction worker died; a new one takes over")
            self.extractor.shutdown(wait=False, cancel_futures=True)
            self.extractor = self._worker()
            return self.extractor.submit(fn, *args)

    def close_spider(self):
        self.extractor.shutdown(cancel_futures=True)

    async def process_item(self, item):
        if item.get("text") is not None:  # a post or message its spider cut out
            analysis = analyse(Extracted(title=item.get("title") or "", text=item["text"].strip()[:self.max_chars],
                                         author=item.get("author"), published_at=None), item.get("language_hint"))
        else:
            archive = getattr(self.crawler.spider, "archive", None)
            analysis, capture = await asyncio.wrap_future(self.submit(
                page_work, item["html"], item["url"], self.max_chars, item.get("language_hint"),
                archive.root if archive and item.get("raw_response") else None, item.get("raw_response"),
                item["fetched_at"]))
            item["archive"] = capture or item.get("archive")
        document = self.document(item, analysis)
        if self.images is not None and item.get("image_urls"):
            spider = self.crawler.spider
            archive = getattr(spider, "archive", None)
            media_root = archive.root if archive is not None and spider.source.retain_media else None
            images = await self.images.hashes(item["image_urls"], item["url"], media_root)
            document = document.model_copy(update={"images": images})
        return document

    def document(self, item, analysis: Analysis) -> RawDocument:
        extracted, digest, simhash = analysis.extracted, analysis.text_sha256, analysis.simhash
        if not extracted.text:
            self.stats.inc_value("vigil/dropped/no_text")
            raise DropItem("no text extracted", log_level="INFO")  # the log line adds the URL (logformatter.py)
        spider = self.crawler.spider
        state = getattr(spider, "crawl_state", None)
        if state is not None and state.text_hash(item["url"]) == digest:
            self.stats.inc_value("vigil/unchanged/same_text")
            raise DropItem("unchanged since the last crawl", log_level="DEBUG")  # expected: counted, not logged
        lang, confidence = analysis.lang, analysis.lang_confidence
        canonical = canonical_url(item["url"])
        fragment = urlsplit(item["url"]).fragment
        if item.get("post") and fragment:  # a post's identity includes its anchor
            canonical += "#" + fragment
        doc_id = document_id(canonical, digest)
        near = state.near_duplicate_of(simhash, doc_id) if state is not None else None
        self.stats.inc_value("vigil/documents")
        if near:
            self.stats.inc_value("vigil/near_duplicates")
        if state is not None:  # remembered once the document is published (PublishPipeline)
            spider.state_rows[doc_id] = {
                "url": item["url"], "document_id": doc_id, "etag": item.get("etag"),
                "last_modified": item.get("last_modified"), "text_sha256": digest, "simhash": simhash,
                "sitemap_lastmod": item.get("sitemap_lastmod"), "seen_at": item["fetched_at"].isoformat()}
        return RawDocument(
            id=doc_id, url=item["url"], canonical_url=canonical, source=item["source"],
            fetched_at=item["fetched_at"], published_at=extracted.published_at or item.get("published_hint"),
            http_status=item["status"], content_type=item["content_type"], lang=lang,
            lang_confidence=round(confidence, 4), title=extracted.title, text=extracted.text, text_sha256=digest,
            simhash=simhash, author=pseudonymise(extracted.author, self.key) if extracted.author else None,
            crawl_job=item["crawl_job"], spider=item["spider"], depth=item["depth"], near_duplicate_of=near,
            post=item.get("post"), archive=item.get("archive"),
        )


class PublishPipeline:
    """Sends each raw document to the raw topic, keyed by document id; flushes in batches and at close."""

    def __init__(self, settings: VigilSettings, crawler, flush_every: int = 100):
        self.settings = settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.published: list[str] = []  # ids sent since the last flush
        self.flush_every = flush_every
        self.transport = open_transport(settings)
        self.transport.ensure_topics([settings.topics.raw])
        self.producer = self.transport.producer()

    @classmethod
    def from_crawler(cls, crawler):
        return cls(vigil_settings(crawler), crawler)

    def process_item(self, item):
        if not isinstance(item, RawDocument):
            return item
        self.producer.send(self.settings.topics.raw, item.to_bytes(), key=item.id.encode("ascii"))
        self.published.append(item.id)
        if len(self.published) >= self.flush_every:
            self._flush()
        return item

    def _flush(self):
        self.producer.flush()
        self.stats.inc_value("vigil/published", len(self.published))
        spider = self.crawler.spider
        if getattr(spider, "crawl_state", None) is not None:  # durable now: the next run may skip these
            spider.crawl_state.record([spider.state_rows.pop(i) for i in self.published if i in spider.state_rows])
        self.published = []

    def close_spider(self):
        self._flush()
        self.producer.close()
        self.transport.close()
