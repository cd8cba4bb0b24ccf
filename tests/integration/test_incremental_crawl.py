"""Feed and sitemap spiders over a local publisher, crawled again and again: only what is new or
changed is published, near-duplicates are marked, and every crawl reports its figures."""
from __future__ import annotations

import pytest

from streams.config import VigilSettings
from streams.schemas import CrawlStats, RawDocument
from streams.transports import open_transport
from tests.publisher_site import PublisherSite
from vigil.pipeline import crawl_sources

pytestmark = pytest.mark.integration
FAST = {"AUTOTHROTTLE_ENABLED": False, "RETRY_ENABLED": False}


def read(settings, topic, schema, group):
    """What the group has not read yet (committed, so the next read continues after it)."""
    consumer = open_transport(settings).consumer([topic], group)
    records = []
    while batch := consumer.poll(1000, 0.5):
        records += batch
    consumer.commit()
    consumer.close()
    return [schema.from_bytes(r.value) for r in records]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three crawls of every source: first, again unchanged, again after one article was edited."""
    tmp = tmp_path_factory.mktemp("incremental")
    settings = VigilSettings.model_validate({"data_dir": str(tmp / "data")})
    results = []
    with PublisherSite() as site:
        sources = tmp / "sources.yaml"
        sources.write_text(site.sources_yaml())
        for n in range(3):
            if n == 2:
                site.edit("/news/2.html", "The appeal court reduced the sentence of the man who raised money for "
                                          "a banned group, citing his cooperation with investigators.")
            before = site.not_modified
            stats = crawl_sources(settings, sources, ["rss", "atom", "map"], FAST)
            # One reader group across the runs: each read returns what that run published.
            docs = read(settings, settings.topics.raw, RawDocument, "runs")
            stat_messages = read(settings, settings.topics.crawl_stats, CrawlStats, "stats")
            results.append({"stats": stats, "docs": docs, "not_modified": site.not_modified - before,
                            "crawl_stats": stat_messages})
        dups = crawl_sources(settings, sources, ["dups"], FAST)["dups"]
        dup_docs = read(settings, settings.topics.raw, RawDocument, "runs")
    return results, dups, dup_docs, site.url


def urls(docs, source):
    return sorted(d.url.split("/", 3)[-1] for d in docs if d.source == source)


def test_feed_entries_become_documents_with_their_dates(runs):
    first = runs[0][0]["docs"]
    assert urls(first, "rss") == ["news/1.html", "news/2.html", "news/gone.html"]  # off-site entry skipped
    gone = next(d for d in first if d.url.endswith("gone.html"))
    assert "new rules for charities" in gone.text  # the page is gone: the entry's own text stands in
    assert gone.published_at.isoformat().startswith("2026-11-03T10:00")
    market = next(d for d in first if d.url.endswith("news/1.html") and d.source == "rss")
    assert "market attack" in market.text and "Footer" not in market.text and market.spider == "feed"
    assert urls(first, "atom") == ["blog/a.html", "blog/b.html"]


def test_sitemap_index_and_gzipped_sitemaps_are_followed(runs):
    first = runs[0][0]["docs"]
    assert urls(first, "map") == ["blog/a.html", "blog/b.html", "news/1.html", "news/2.html"]  # 3 is excluded
    assert all(d.published_at is not None for d in first if d.source == "map")  # from <lastmod>


def test_a_second_run_of_an_unchanged_source_emits_nothing(runs):
    results = runs[0]
    second = results[1]
    assert second["docs"] == []
    assert second["not_modified"] >= 4  # feed entries asked conditionally and answered 304
    assert second["stats"]["map"].get("vigil/unchanged/sitemap_lastmod") == 4  # skipped without a request
    assert second["stats"]["rss"].get("vigil/published", 0) == 0


def test_an_edited_page_is_published_again(runs):
    third = runs[0][2]["docs"]
    assert sorted((d.source, d.url.split("/", 3)[-1]) for d in third) == [("map", "news/2.html"),
                                                                       ("rss", "news/2.html")]
    assert all("appeal court" in d.text for d in third)


def test_near_duplicates_are_marked(runs):
    _, stats, docs, _ = runs
    by_url = {d.url.split("/", 3)[-1]: d for d in docs}
    one, three = by_url["news/1.html"], by_url["news/3.html"]
    assert one.id != three.id and {one.near_duplicate_of, three.near_duplicate_of} - {None} <= {one.id, three.id}
    assert (one.near_duplicate_of or three.near_duplicate_of) and stats.get("vigil/near_duplicates") == 1
    assert by_url["news/2.html"].near_duplicate_of is None


def test_every_crawl_publishes_its_figures(runs):
    first, second = runs[0][0]["crawl_stats"], runs[0][1]["crawl_stats"]
    rss = next(m for m in first if m.source == "rss")
    assert rss.documents == 3 and rss.pages >= 3 and rss.bytes > 0 and rss.finished_at >= rss.started_at
    assert rss.errors.get("http_404") >= 1  # the gone page (and a missing robots.txt)
    again = next(m for m in second if m.source == "rss")
    assert again.documents == 0 and again.unchanged >= 2 and again.crawl_job != rss.crawl_job
