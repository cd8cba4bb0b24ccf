"""Running spiders from Vigil: one Scrapy process crawls the given sources, with Vigil's settings.

Twisted's reactor runs once per process, so every crawl started from a long-lived process (the
scheduler, `vigil run`, `vigil crawl`) runs in a child process of its own (`start_crawl`).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from multiprocessing.process import BaseProcess
from pathlib import Path

from crawlers.sources import Source
from streams.config import VigilSettings

log = logging.getLogger(__name__)

# Scrapy's start-up report (versions, settings, every component: 60 lines) and its closing stats dump (50
# more). Above DEBUG a crawl child logs only what happens, and one line of figures per crawl (extensions.py).
STARTUP_LOGGERS = ("scrapy.addons", "scrapy.middleware", "scrapy.crawler", "scrapy.statscollectors")


def from_vigil(settings: VigilSettings) -> dict:
    """The Scrapy settings that Vigil's settings control, by Scrapy's names (crawlers/settings.py has the rest)."""
    crawler = settings.crawler
    return {
        "USER_AGENT": crawler.user_agent,
        "ROBOTSTXT_OBEY": crawler.obey_robots,
        # The size limit also bounds decompressed bodies (gzip bombs).
        "DOWNLOAD_MAXSIZE": crawler.max_response_bytes,
        "DOWNLOAD_WARNSIZE": crawler.max_response_bytes // 2,
        "DOWNLOAD_TIMEOUT": crawler.download_timeout_s,
        "VIGIL_ROBOTSTXT_TIMEOUT": crawler.robots_timeout_s,
        "VIGIL_MAX_REQUESTS": crawler.max_requests_per_source,
        "VIGIL_MAX_LINKS_PER_PAGE": crawler.max_links_per_page,
        "VIGIL_FETCH_IMAGES": crawler.fetch_images,
        "VIGIL_MAX_IMAGE_BYTES": crawler.max_image_bytes,
        "VIGIL_MAX_IMAGES_PER_PAGE": crawler.max_images_per_page,
        "VIGIL_MAX_IMAGE_PIXELS": crawler.max_image_pixels,
        "LOG_LEVEL": settings.log_level,
    }


def scrapy_settings(settings: VigilSettings):
    """Scrapy's project settings with the fields Vigil's settings control applied on top (these
    settings may have been built in code rather than read from the file and environment)."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawlers.settings")
    from scrapy.utils.project import get_project_settings  # here: the scheduler imports this module, not Scrapy

    scrapy = get_project_settings()
    scrapy.set("VIGIL_SETTINGS", settings, priority="cmdline")
    for name, value in from_vigil(settings).items():
        scrapy.set(name, value, priority="cmdline")
    return scrapy


def crawl(settings: VigilSettings, sources: list[Source], sources_file: Path, job_dir: Path | None = None,
          **overrides) -> dict[str, dict]:
    """Crawl each source once (concurrently, in this process) and return Scrapy's stats per source.
    With job_dir, each source's crawl can be paused (Ctrl-C once) and resumed (Scrapy's JOBDIR)."""
    from scrapy.crawler import CrawlerProcess

    scrapy = scrapy_settings(settings)
    for name, value in overrides.items():
        scrapy.set(name, value, priority="cmdline")
    quiet = settings.log_level.upper() != "DEBUG"
    if quiet:
        scrapy.set("LOG_VERSIONS", [], priority="cmdline")  # logged as the process is made
    process = CrawlerProcess(scrapy)
    if quiet:  # only now: making the process resets Scrapy's loggers
        for name in STARTUP_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    crawlers = {}
    for source in sources:
        crawler = process.create_crawler(source.kind)
        if job_dir is not None:
            crawler.settings.set("JOBDIR", str(Path(job_dir) / source.id), priority="cmdline")
        crawlers[source.id] = crawler
        process.crawl(crawler, source=source.id, sources=str(sources_file))
    _stop_on_signals(process)
    process.start(install_signal_handlers=False)  # Vigil's handlers, above
    return {source_id: crawler.stats.get_stats() for source_id, crawler in crawlers.items()}


def _stop_on_signals(process) -> None:
    """The first SIGTERM (the scheduler, Kubernetes) stops the crawls at once: nothing more is sent, only
    transfers under way finish (crawlers.middlewares.PromptStopMiddleware). The first SIGINT (Ctrl-C) stops
    them as Scrapy does, after the requests in hand, so that a crawl with a job_dir resumes without a gap.
    A second signal kills the process (the system's default action)."""
    from scrapy.utils.ossignal import install_shutdown_handlers
    from twisted.internet import reactor

    from crawlers.middlewares import stop_now

    def stop(signum: int) -> None:
        at_once = signum == signal.SIGTERM
        log.info("%s: stopping %s (a second signal kills the crawl)", signal.Signals(signum).name,
                 "at once" if at_once else "after the requests in hand")
        if at_once:
            for crawler in process.crawlers:
                crawler.signals.send_catch_log(signal=stop_now)
        process.stop()

    def first(signum, _frame):
        install_shutdown_handlers(kill)
        reactor.callFromThread(stop, signum)  # no logging in a signal handler: it can break the write it interrupted

    def kill(signum, _frame):
        for child in multiprocessing.active_children():  # the extraction worker, which only its pipeline stops
            child.kill()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    install_shutdown_handlers(first)


def _crawl_child(settings, sources, sources_file, overrides, job_dir, results):
    stats = crawl(settings, sources, sources_file, job_dir, **overrides)
    if results is not None:
        results.put(stats)


def start_crawl(settings: VigilSettings, sources: list[Source], sources_file: Path, *,
                scrapy_overrides: dict | None = None, job_dir: Path | None = None, results=None,
                name: str | None = None) -> BaseProcess:
    """`crawl` in a started child process (spawned, not forked: no reactor or threads are inherited).
    results: a queue from multiprocessing.get_context("spawn") that receives the stats per source."""
    process = multiprocessing.get_context("spawn").Process(
        target=_crawl_child, name=name,
        args=(settings, sources, Path(sources_file), scrapy_overrides or {}, job_dir, results))
    process.start()
    return process
