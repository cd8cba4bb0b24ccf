"""The address guard and the sources file, without a network."""
from types import SimpleNamespace

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.settings import Settings
from scrapy.statscollectors import MemoryStatsCollector

from crawlers.addresses import non_public_reason
from crawlers.middlewares import AddressGuardMiddleware
from crawlers.sources import Source, load_sources
from streams.config import ConfigError


@pytest.mark.parametrize("address, reason", [
    ("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("192.168.0.1", "private"), ("169.254.169.254", "link-local"),
    ("::1", "loopback"), ("fe80::1", "link-local"), ("::ffff:127.0.0.1", "loopback"), ("100.64.0.1", "not-global"),
    ("93.184.216.34", None), ("2606:4700::1111", None),
])
def test_non_public_addresses(address, reason):
    assert non_public_reason(address) == reason


def guard(allow_private: bool):
    source = Source(id="s", start_urls=["http://127.0.0.1/"], allow_private_addresses=allow_private)
    crawler = SimpleNamespace(spider=SimpleNamespace(source=source),
                              stats=MemoryStatsCollector(SimpleNamespace(settings=Settings())))
    return AddressGuardMiddleware(crawler)


def test_guard_refuses_private_addresses_unless_the_source_allows_them():
    with pytest.raises(IgnoreRequest, match="loopback"):
        guard(False).process_request(Request("http://127.0.0.1:8000/"))
    assert guard(True).process_request(Request("http://127.0.0.1:8000/")) is None
    assert guard(False).process_request(Request("http://93.184.216.34/")) is None


def test_metadata_addresses_are_refused_even_when_private_ones_are_allowed():
    with pytest.raises(IgnoreRequest, match="metadata"):
        guard(True).process_request(Request("http://169.254.169.254/latest/meta-data/"))


def test_sources_file_errors_name_the_source_and_field(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n- id: good\n  start_urls: [https://example.org/]\n"
                    "- id: bad\n  start_urls: [ftp://example.org/]\n  schedule: every day\n  max_depth: -1\n")
    with pytest.raises(ConfigError) as error:
        load_sources(path)
    message = str(error.value)
    assert "source bad: start_urls" in message and "source bad: schedule" in message
    assert "source bad: max_depth" in message and "good" not in message.replace("source bad", "")
    path.write_text("sources:\n- id: good\n  start_urls: [https://example.org/news]\n")
    source = load_sources(path)["good"]
    assert source.domains() == ["example.org"] and source.allow_private_addresses is False


def test_sources_check_names_each_error_by_source_and_field(tmp_path, capsys):
    from vigil.cli import main

    good = tmp_path / "good.yaml"
    good.write_text("sources:\n- id: news\n  kind: feed\n  start_urls: [https://news.example/rss]\n  delay_s: 2\n"
                    "  include: ['/20[0-9]{2}/']\n  robots: ignore\n")
    assert main(["sources", "check", str(good)]) == 0
    out = capsys.readouterr().out
    assert "1 source, all valid" in out and "download_delay 2" in out and "robots.txt IGNORED" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n- id: a\n  kind: blog\n  start_urls: [ftp://x]\n  include: ['(unclosed']\n"
                   "  concurrency: 0\n")
    assert main(["sources", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    for expected in ("source a: kind", "source a: start_urls", "source a: include", "source a: concurrency"):
        assert expected in err


def test_source_scope_and_politeness_settings():
    from crawlers.sources import Source

    source = Source(id="s", start_urls=["https://a.example/"], include=[r"/news/"], exclude=[r"\?print"],
                    concurrency=1, delay_s=3.0, user_agent="Bot/1")
    assert source.in_scope("https://a.example/news/1") and not source.in_scope("https://a.example/about")
    assert not source.in_scope("https://a.example/news/1?print=1")
    assert source.scrapy_settings() == {"CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 3.0,
                                        "USER_AGENT": "Bot/1"}
    assert Source(id="t", start_urls=["https://a.example/"]).scrapy_settings() == {}  # defaults stay


def test_a_sources_politeness_reaches_the_crawler(tmp_path):
    from scrapy.crawler import Crawler

    from crawlers.process import scrapy_settings
    from crawlers.spiders.site import SiteSpider
    from streams.config import VigilSettings

    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n- {id: slow, start_urls: ['https://slow.example/'], concurrency: 1, delay_s: 5,"
                       " user_agent: 'Bot/2', robots: obey}\n- {id: plain, start_urls: ['https://plain.example/']}\n")
    settings = scrapy_settings(VigilSettings(data_dir=tmp_path / "data"))
    slow = Crawler(SiteSpider, settings.copy())
    SiteSpider.from_crawler(slow, source="slow", sources=str(sources))
    assert slow.settings.getint("CONCURRENT_REQUESTS_PER_DOMAIN") == 1
    assert slow.settings.getfloat("DOWNLOAD_DELAY") == 5 and slow.settings["USER_AGENT"] == "Bot/2"
    plain = Crawler(SiteSpider, settings.copy())
    SiteSpider.from_crawler(plain, source="plain", sources=str(sources))
    assert plain.settings.getfloat("DOWNLOAD_DELAY") == 0.25 and plain.settings.getbool("ROBOTSTXT_OBEY")
    assert plain.settings.getbool("AUTOTHROTTLE_ENABLED")  # politeness on by default
