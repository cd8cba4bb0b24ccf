"""The crawler against a local site with ordinary, mis-encoded, broken and hostile pages."""
from __future__ import annotations

import pytest

from streams.schemas import RawDocument
from streams.transports import open_transport
from tests.fixture_site import ARABIC, CHINESE, RUSSIAN, FixtureSite
from vigil.pipeline import crawl_sources

pytestmark = pytest.mark.integration
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_ENABLED": False}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    from streams.config import VigilSettings

    tmp = tmp_path_factory.mktemp("crawl")
    settings = VigilSettings.model_validate({"data_dir": str(tmp / "data")})
    with FixtureSite() as site:
        sources = tmp / "sources.yaml"
        # The metadata host is "in scope" so that only Vigil's address guard stands in the redirect's way.
        sources.write_text(site.sources_yaml(allowed_domains=["127.0.0.1", "169.254.169.254"]))
        stats = crawl_sources(settings, sources, ["fixture"], FAST)["fixture"]
        hits = dict(site.hits)
    transport = open_transport(settings)
    consumer = transport.consumer([settings.topics.raw], "check")
    records = consumer.poll(1000, 1.0)
    consumer.close()
    docs = {doc.url.split("/", 3)[-1]: doc for doc in (RawDocument.from_bytes(r.value) for r in records)}
    return stats, hits, docs


def test_ordinary_page_becomes_a_raw_document(crawled):
    _, _, docs = crawled
    doc = docs["ok.html"]
    assert doc.title == "Plain page" and "market attack" in doc.text
    assert "Footer text" not in doc.text and "Home" not in doc.text.split()
    assert doc.lang == "en" and doc.source == "fixture" and doc.spider == "site" and doc.depth == 1
    assert len(doc.simhash) == 16 and doc.canonical_url.endswith("/ok.html")


@pytest.mark.parametrize("path, text, lang", [
    ("cp1251.html", RUSSIAN, "ru"), ("win1256.html", ARABIC, "ar"), ("gb18030.html", CHINESE, "zh"),
])
def test_pages_in_other_encodings_decode_correctly(crawled, path, text, lang):
    doc = crawled[2][path]
    assert text in doc.text
    assert doc.lang == lang


def test_utf16_with_bom_and_broken_html_survive(crawled):
    docs = crawled[2]
    assert "encoded as UTF-16" in docs["utf16.html"].text
    assert "forgiving about broken markup" in docs["broken.html"].text


def test_hostile_responses_are_refused_or_survived(crawled):
    stats, hits, docs = crawled
    assert stats["vigil/refused/non_public_address"] >= 1  # the redirect to 169.254.169.254
    assert "loop-a" not in docs and "binary.html" not in docs and "download" not in docs
    assert stats["vigil/refused/binary"] == 1 and stats["vigil/refused/content_type"] == 1
    assert "huge.html" not in docs and "bomb.html" not in docs  # size limit, also after decompression
    assert stats["downloader/exception_type_count/scrapy.exceptions.DownloadCancelledError"] == 1  # huge.html
    assert hits.get("/loop-a", 0) <= 2  # the redirect loop ends
    assert stats["finish_reason"] == "finished"


def test_robots_txt_is_obeyed(crawled):
    stats, hits, docs = crawled
    assert "private/secret.html" not in docs and "/private/secret.html" not in hits
    assert stats["robotstxt/forbidden"] == 1
