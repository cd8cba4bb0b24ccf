"""Off-site redirects are refused with one INFO line each; off-site links stay quiet (pages have hundreds)."""
import logging

import pytest
from scrapy import Request, Spider
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.test import get_crawler

from crawlers.middlewares import OffsiteMiddleware

MOVED = "http://127.0.0.1:8000/moved"


@pytest.fixture
def offsite():
    crawler = get_crawler(Spider)
    crawler.spider = Spider(name="site", allowed_domains=["127.0.0.1"])
    middleware = OffsiteMiddleware.from_crawler(crawler)
    middleware.spider_opened(crawler.spider)
    return middleware


@pytest.mark.parametrize("target", ["http://elsewhere.example/landing", "http://169.254.169.254/latest/meta-data/"])
def test_an_off_site_redirect_is_refused_with_one_info_line(offsite, caplog, target):
    with caplog.at_level(logging.DEBUG), pytest.raises(IgnoreRequest):
        offsite.process_request(Request(target, meta={"redirect_urls": [MOVED]}))
    [line] = [record for record in caplog.records if record.levelno >= logging.INFO]
    assert line.levelno == logging.INFO
    assert target in line.getMessage() and MOVED in line.getMessage() and "off-site" in line.getMessage()
    assert offsite.stats.get_value("vigil/refused/offsite_redirect") == 1


def test_off_site_links_are_dropped_without_an_info_line(offsite, caplog):
    with caplog.at_level(logging.DEBUG):
        for n in range(3):
            with pytest.raises(IgnoreRequest):
                offsite.process_request(Request(f"http://elsewhere.example/{n}"))
    assert not [record for record in caplog.records if record.levelno >= logging.INFO]
    assert offsite.process_request(Request("http://127.0.0.1:8000/page")) is None  # on the site: passes
