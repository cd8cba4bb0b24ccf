"""Running spiders from Vigil: one Scrapy process crawls the given sources, with Vigil's settings."""
from __future__ import annotations

import os
from pathlib import Path

from crawlers.sources import Source
from streams.config import VigilSettings


def scrapy_settings(settings: VigilSettings):
    """Scrapy's project settings with the fields Vigil's settings control applied on top (these
    settings may have been built in code rather than read from the file and environment)."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    from scrapy.utils.project import get_project_settings

    scrapy = get_project_settings()
    crawler = settings.crawler
    scrapy.set("VIGIL_SETTINGS", settings, priority="cmdline")
    scrapy.set("USER_AGENT", crawler.user_agent, priority="cmdline")
    scrapy.set("ROBOTSTXT_OBEY", crawler.obey_robots, priority="cmdline")
    scrapy.set("DOWNLOAD_MAXSIZE", crawler.max_response_bytes, priority="cmdline")
    scrapy.set("DOWNLOAD_TIMEOUT", crawler.download_timeout_s, priority="cmdline")
    scrapy.set("LOG_LEVEL", settings.log_level, priority="cmdline")
    return scrapy


def crawl(settings: VigilSettings, sources: list[Source], sources_file: Path, job_dir: Path | None = None,
          **overrides) -> dict[str, dict]:
    """Crawl each source once (concurrently, in this process) and return Scrapy's stats per source.
    With job_dir, each source's crawl can be paused (Ctrl-C once) and resumed (Scrapy's JOBDIR)."""
    from scrapy.crawler import CrawlerProcess

    scrapy = scrapy_settings(settings)
    for name, value in overrides.items():
        scrapy.set(name, value, priority="cmdline")
    process = CrawlerProcess(scrapy)
    crawlers = {}
    for source in sources:
        crawler = process.create_crawler(source.kind)
        if job_dir is not None:
            crawler.settings.set("JOBDIR", str(Path(job_dir) / source.id), priority="cmdline")
        crawlers[source.id] = crawler
        process.crawl(crawler, source=source.id, sources=str(sources_file))
    process.start()
    return {source_id: crawler.stats.get_stats() for source_id, crawler in crawlers.items()}
