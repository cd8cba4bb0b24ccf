"""Each crawl's figures, published to the crawl-stats topic and logged when the spider closes."""
from __future__ import annotations

import logging

from scrapy import signals

from crawlers.pipelines import vigil_settings
from streams.schemas import CrawlStats, utcnow
from streams.transports import open_transport

log = logging.getLogger(__name__)
# Errors and refusals by kind; what the crawl's bounds cut counts among them (crawlers/limits.py), and so do
# the images not hashed (crawlers/images.py), by reason.
ERROR_PREFIXES = ("vigil/refused/", "downloader/exception_type_count/", "spider_exceptions/", "vigil/dropped/",
                  "vigil/cut/", "vigil/images/skipped/")


def crawl_stats(spider, stats: dict, reason: str) -> CrawlStats:
    errors = {key.split("/", 1)[1]: value for key, value in stats.items() if key.startswith(ERROR_PREFIXES)}
    errors.update({f"http_{key.rsplit('/', 1)[1]}": value for key, value in stats.items()
                   if key.startswith("downloader/response_status_count/") and key.rsplit("/", 1)[1] >= "400"})
    started, finished = stats.get("start_time"), utcnow()  # CoreStats may not have closed its figures yet
    return CrawlStats(
        crawl_job=spider.crawl_job, source=spider.source.id, spider=spider.name, started_at=started,
        finished_at=finished, duration_s=round((finished - started).total_seconds(), 3) if started else 0.0,
        pages=stats.get("response_received_count", 0) - stats.get("vigil/images/responses", 0),
        documents=stats.get("vigil/published", 0), bytes=stats.get("downloader/response_bytes", 0),
        unchanged=sum(v for k, v in stats.items() if k.startswith("vigil/unchanged/")), errors=errors,
        finish_reason=reason)


class CrawlStatsPublisher:
    def __init__(self, crawler):
        self.crawler = crawler
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def spider_closed(self, spider, reason):
        if not hasattr(spider, "source"):
            return
        message = crawl_stats(spider, self.crawler.stats.get_stats(), reason)
        log.info("crawl %s of %s: %d pages, %d documents, %d unchanged, %d bytes, %.1fs, errors %s, %s",
                 message.crawl_job, message.source, message.pages, message.documents, message.unchanged,
                 message.bytes, message.duration_s, message.errors or "none", reason)
        settings = vigil_settings(self.crawler)
        try:
            transport = open_transport(settings)
            transport.ensure_topics([settings.topics.crawl_stats])
            producer = transport.producer()
            producer.send(settings.topics.crawl_stats, message.to_bytes(), key=message.source.encode("utf-8"))
            producer.close()
            transport.close()
        except Exception as exc:  # the crawl itself succeeded; its figures stay in the log line above
            log.error("could not publish the stats of crawl %s: %s", message.crawl_job, exc)
