"""Crawl throughput: Vigil's `site` spider (address guard, content checks, extraction, language ID,
hashes, publishing to the embedded log) against a plain Scrapy link-following spider that only fetches
the same local site, measured in the same run with the same concurrency and no politeness delay
(the ratio). Also the CPU share of extraction: the time extract() takes on the same pages, over the
Vigil crawl's wall time. Goal: at least 0.8 of plain Scrapy's rate.
Usage: python bench/crawl.py [COPIES] [--no-archive]   (COPIES editions of the demo site, 33 pages each;
--no-archive turns the WARC evidence archive off, to show its cost)
"""
from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from crawlers.extract import detect_language, extract  # noqa: E402
from streams.config import VigilSettings  # noqa: E402
from vigil.demo.site import DemoSite, load_pages, render  # noqa: E402
from vigil.pipeline import crawl_sources  # noqa: E402

ARCHIVE = "--no-archive" not in sys.argv
SAME_SPEED = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 16,
              "CONCURRENT_REQUESTS_PER_DOMAIN": 16, "LOG_LEVEL": "WARNING", "ROBOTSTXT_OBEY": True}


def plain_scrapy(url: str, results) -> None:
    """A spider that follows every link on the site and keeps nothing."""
    import scrapy
    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor

    class Plain(scrapy.Spider):
        name = "plain"
        start_urls = [url + "/"]
        allowed_domains = ["127.0.0.1"]
        links = LinkExtractor()

        def parse(self, response):
            for link in self.links.extract_links(response):
                yield response.follow(link.url)

    process = CrawlerProcess({**SAME_SPEED, "TELNETCONSOLE_ENABLED": False,
                              "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor"})
    crawler = process.create_crawler(Plain)
    process.crawl(crawler)
    started = time.perf_counter()
    process.start()
    results.put((crawler.stats.get_value("response_received_count", 0), time.perf_counter() - started))


def main(copies: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="vigil-crawl-bench-"))
    with DemoSite(copies=copies) as site:
        context = multiprocessing.get_context("spawn")
        results = context.Queue()
        process = context.Process(target=plain_scrapy, args=(site.url, results))
        process.start()
        pages, seconds = results.get()
        process.join()
        baseline = pages / seconds
        print(f"plain Scrapy: {pages} pages in {seconds:.2f}s = {baseline:.0f} pages/s (baseline)")

        sources = work / "sources.yaml"
        sources.write_text(site.sources_yaml())
        settings = VigilSettings.model_validate({"data_dir": str(work / "data"), "log_level": "WARNING",
                                                 "crawler": {"archive": ARCHIVE}})
        started = time.perf_counter()
        stats = crawl_sources(settings, sources, None, {**SAME_SPEED, "LOG_LEVEL": "WARNING"})["riverside"]
        wall = time.perf_counter() - started
        spider_seconds = (stats["finish_time"] - stats["start_time"]).total_seconds()
        vigil_pages = stats.get("response_received_count", 0)
        rate = vigil_pages / spider_seconds
        print(f"Vigil site spider: {vigil_pages} pages, {stats.get('vigil/published', 0)} documents published in "
              f"{spider_seconds:.2f}s = {rate:.0f} pages/s, {rate / baseline:.2f} of plain Scrapy's rate "
              f"(process start included: {wall:.1f}s)")

        htmls = [html.decode("utf-8") for html in render(*load_pages(copies)).values()]
        started = time.perf_counter()
        for html in htmls:
            text = extract(html, site.url, 50_000).text
            detect_language(text)
        per_page = (time.perf_counter() - started) / len(htmls)
        share = per_page * vigil_pages / spider_seconds
        print(f"extraction and language ID: {per_page * 1000:.1f} ms a page, {share:.0%} of the Vigil crawl's "
              f"wall time")


if __name__ == "__main__":
    numbers = [arg for arg in sys.argv[1:] if arg.isdigit()]
    main(int(numbers[0]) if numbers else 30)
