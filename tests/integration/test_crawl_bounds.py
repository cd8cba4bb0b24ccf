"""What one crawl may cost, and what it says: requests and links per page are bounded, a hanging robots.txt
is asked once, SIGTERM stops a crawl at once, and the log has one short line per event."""
from __future__ import annotations

import time

import pytest

from crawlers.process import start_crawl
from crawlers.sources import load_sources
from streams.config import VigilSettings
from streams.schemas import CrawlStats
from streams.transports import open_transport
from tests.bounds_site import REDIRECTS, BoundsSite
from vigil.pipeline import crawl_sources

pytestmark = pytest.mark.integration
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}


def crawl_settings(tmp_path, **crawler) -> VigilSettings:
    return VigilSettings.model_validate({"data_dir": str(tmp_path / "data"), "crawler": crawler})


def published_stats(settings) -> list[CrawlStats]:
    consumer = open_transport(settings).consumer([settings.topics.crawl_stats], "check")
    records = consumer.poll(100, 1.0)
    consumer.close()
    return [CrawlStats.from_bytes(r.value) for r in records]


def test_requests_per_source_and_links_per_page_are_bounded(tmp_path):
    settings = crawl_settings(tmp_path, max_requests_per_source=20, max_links_per_page=100)
    with BoundsSite(links=5000) as site:  # every link answers 404: no document, yet each is a request
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml())
        stats = crawl_sources(settings, sources, ["bounds"], {**FAST, "RETRY_ENABLED": False})["bounds"]
        requested = site.pages_requested()
    assert requested == 20  # the index and 19 of the 100 links taken from it
    assert stats["vigil/cut/links_per_page"] == 4900 and stats["vigil/cut/requests_per_source"] == 81
    assert stats["scheduler/enqueued"] == 20  # the request queue never held more
    [message] = published_stats(settings)
    assert message.errors["cut/links_per_page"] == 4900 and message.errors["cut/requests_per_source"] == 81


def test_a_hanging_robots_txt_is_asked_once_and_its_site_is_not_crawled(tmp_path):
    settings = crawl_settings(tmp_path, download_timeout_s=2, robots_timeout_s=0.5)
    with BoundsSite(links=5, pages=5, hang_robots=True) as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml())
        stats = crawl_sources(settings, sources, ["bounds"], FAST)["bounds"]  # retries on, as in production
        hits = dict(site.hits)
    assert hits == {"/robots.txt": 1}  # not retried; and unread, it allows nothing
    assert stats["vigil/refused/robots_unreadable"] == 1 and stats["finish_reason"] == "finished"


def wait_for(condition, what: str, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_sigterm_stops_a_crawl_at_once(tmp_path):
    # Pages never answer: 4 requests hang on the wire (the source's concurrency), the next wait in the downloader.
    # (A delay, however short, keeps Scrapy from sending more than the concurrency in one go.)
    settings = crawl_settings(tmp_path, download_timeout_s=5)
    with BoundsSite(links=100, hang_pages=True) as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml(concurrency=4, delay_s=0.1))
        process = start_crawl(settings, [load_sources(sources)["bounds"]], sources,
                              scrapy_overrides={"AUTOTHROTTLE_ENABLED": False})
        try:
            wait_for(lambda: site.pages_requested() == 5, "the index and 4 pages in flight")
            process.terminate()
            process.join(60)
        finally:
            if process.is_alive():
                process.kill()
        requested = site.pages_requested()
    assert process.exitcode == 0  # stopped cleanly: the first SIGTERM was enough
    assert requested == 5  # nothing was sent after the signal, only what was in flight finished


def test_a_crawl_logs_one_short_line_per_event_and_no_banner(tmp_path, capfd):
    settings = crawl_settings(tmp_path)
    with BoundsSite(links=30, pages=30, redirects=True) as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml())
        logs = []
        for _ in range(2):  # the second run meets only unchanged pages
            crawl_sources(settings, sources, ["bounds"], FAST)
            logs.append(capfd.readouterr().err)
    for log in logs:
        lines = log.splitlines()
        assert max(len(line) for line in lines) <= 500, max(lines, key=len)[:1000]
        assert len(lines) <= 12, "\n".join(lines)  # 31 pages: no line per page at INFO
        assert "Enabled downloader middlewares" not in log and "Dumping Scrapy stats" not in log
        for path, target in REDIRECTS.items():  # off-site redirects: one INFO line each, with the URL and why
            [line] = [line for line in lines if target in line]
            assert "INFO" in line and site.url + path in line and "off-site" in line
