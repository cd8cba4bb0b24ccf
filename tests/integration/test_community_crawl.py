"""The forum and telegram spiders: a document per post or message, with its permalink, author (as a
pseudonym), time, thread or channel details; listings and channels paged through."""
from __future__ import annotations

import hashlib

import pytest

from streams.config import VigilSettings
from streams.schemas import RawDocument
from streams.transports import open_transport
from tests.community_site import CommunitySite
from vigil.pipeline import crawl_sources

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("community")
    settings = VigilSettings.model_validate({"data_dir": str(tmp / "data"), "crawler": {"author_key": "k"}})
    with CommunitySite() as site:
        sources = tmp / "sources.yaml"
        sources.write_text(site.sources_yaml())
        stats = crawl_sources(settings, sources, ["board", "chan"], {"AUTOTHROTTLE_ENABLED": False})
        again = crawl_sources(settings, sources, ["board", "chan"], {"AUTOTHROTTLE_ENABLED": False})
    consumer = open_transport(settings).consumer([settings.topics.raw], "check")
    docs = []
    while batch := consumer.poll(1000, 0.5):
        docs += [RawDocument.from_bytes(r.value) for r in batch]
    consumer.close()
    return stats, again, docs, site.url, settings.data_dir


def test_each_forum_post_is_a_document_with_its_permalink_author_and_time(crawled):
    _, _, docs, url, _ = crawled
    posts = {d.post.post_id: d for d in docs if d.source == "board"}
    assert set(posts) == {"p11", "p12", "p13", "p21", "p31"}  # both listing pages, both pages of thread 1
    first = posts["p11"]
    assert first.url == f"{url}/forum/viewtopic.php?t=1#p11" and first.canonical_url.endswith("t=1#p11")
    assert first.text == "Brothers, who is coming to the camp?" and first.title == "Travel plans"
    assert first.post.thread_title == "Travel plans" and first.published_at.isoformat().startswith("2026-11-01T10:00")
    assert first.author and "ahmad" not in first.author  # pseudonymised
    assert first.author == posts["p13"].author != posts["p12"].author  # the same person, the same pseudonym
    assert posts["p13"].post.thread_url.endswith("t=1&page=2")


def test_each_channel_message_is_a_document_with_views_forwards_and_media(crawled):
    _, _, docs, _, _ = crawled
    messages = {d.post.post_id: d for d in docs if d.source == "chan"}
    assert set(messages) == {"vigilchan/101", "vigilchan/102", "vigilchan/104"}  # 103 has no text; paged back
    statement = messages["vigilchan/101"]
    assert statement.url == "https://t.me/vigilchan/101" and statement.post.views == 1200
    assert statement.post.forwarded_from == "https://t.me/othermedia"
    assert statement.post.media == ["https://cdn.example/p1.jpg"]  # recorded, never downloaded
    assert messages["vigilchan/104"].post.views == 3_000_000
    assert statement.published_at.isoformat().startswith("2026-11-01T12:00")


def test_a_second_run_publishes_no_post_again(crawled):
    _, again, _, _, _ = crawled
    assert again["board"].get("vigil/published", 0) == 0 and again["chan"].get("vigil/published", 0) == 0
    assert again["board"]["vigil/unchanged/same_text"] == 5


def test_a_crawl_with_a_job_directory_can_be_resumed(tmp_path):
    settings = VigilSettings.model_validate({"data_dir": str(tmp_path / "data")})
    with CommunitySite() as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml())
        stats = crawl_sources(settings, sources, ["board"], {"AUTOTHROTTLE_ENABLED": False},
                              job_dir=tmp_path / "jobs")["board"]
    assert stats["vigil/published"] == 5
    assert (tmp_path / "jobs" / "board" / "requests.seen").exists()  # Scrapy's queue and seen set, per source


def test_every_document_references_its_archived_response(crawled, tmp_path, capsys):
    from crawlers.evidence import EvidenceArchive
    from vigil.cli import main

    _, _, docs, _, _ = crawled
    archived = [d for d in docs if d.archive]
    assert len(archived) == len(docs)
    post = next(d for d in docs if d.post.post_id == "p11")
    settings_dir = crawled[4]
    archive = EvidenceArchive(settings_dir / "evidence")
    record = archive.read(post.archive.warc_sha256)
    assert record["url"] == post.url.split("#")[0] and record["status"] == 200
    assert b"Brothers, who is coming to the camp?" in record["payload"]
    assert hashlib.sha256(record["payload"]).hexdigest() == post.archive.payload_sha256
    config = tmp_path / "vigil.yaml"
    config.write_text(f"data_dir: {settings_dir}\n")
    assert main(["--config", str(config), "archive", "verify", post.archive.warc_sha256]) == 0
    path = archive.path(post.archive.warc_sha256)
    path.write_bytes(path.read_bytes() + b"tampered")
    assert main(["--config", str(config), "archive", "verify", post.archive.warc_sha256]) == 1
    assert "altered" in capsys.readouterr().err


def test_links_on_pages_flagged_before_are_crawled_first(tmp_path):
    from streams.stores import open_store
    from tests.factories import classified, raw_document

    settings = VigilSettings.model_validate({"data_dir": str(tmp_path / "data")})
    with CommunitySite() as site:
        store = open_store(settings)  # an earlier run flagged the first listing page
        listing = raw_document(f"{site.url}/forum/viewforum.php", "Threads: travel plans and more", source="board")
        store.upsert([classified(listing, {"recruitment": 0.9})])
        store.close()
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml())
        stats = crawl_sources(settings, sources, ["board"], {"AUTOTHROTTLE_ENABLED": False})["board"]
    assert stats["vigil/prioritised_pages"] == 1 and stats["vigil/published"] == 5
