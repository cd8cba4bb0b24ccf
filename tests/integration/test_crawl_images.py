"""The images crawled pages show: fetched through the crawler's safeguards, hashed, kept as hashes only unless
the source retains media; hostile images are refused or skipped, counted, and never stop the crawl."""
from __future__ import annotations

import hashlib

import pytest
import yaml

from crawlers.evidence import EvidenceArchive
from streams.config import VigilSettings
from streams.schemas import CrawlStats, RawDocument
from streams.transports import open_transport
from tests.fixture_site import IMAGE_BYTE_LIMIT, MANY_IMAGES, FixtureSite, image_routes
from vigil.pipeline import crawl_sources

pytestmark = pytest.mark.integration
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "RETRY_ENABLED": False}
MAX_IMAGES = 12  # the gallery's 11 fetchable images pass; the page with 15 has 3 cut


def sources_yaml(site: FixtureSite) -> str:
    local = {"allow_private_addresses": True, "max_depth": 0}
    return yaml.safe_dump({"sources": [
        # The metadata host is "in scope" so that only the address guard stands in the redirect's way.
        {"id": "gallery", "start_urls": [site.url + "/images/gallery.html", site.url + "/images/many.html"],
         "allowed_domains": ["127.0.0.1", "169.254.169.254"], **local},
        {"id": "evidence", "start_urls": [site.url + "/images/evidence.html"], "retain_media": True, **local},
    ]})


def crawl(tmp_path, **crawler):
    settings = VigilSettings.model_validate({"data_dir": str(tmp_path / "data"), "crawler": {
        "max_image_bytes": IMAGE_BYTE_LIMIT, "max_images_per_page": MAX_IMAGES, **crawler}})
    with FixtureSite() as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(sources_yaml(site))
        stats = crawl_sources(settings, sources, None, FAST)
        hits = dict(site.hits)
    transport = open_transport(settings)
    consumer = transport.consumer([settings.topics.raw, settings.topics.crawl_stats], "check")
    records = consumer.poll(1000, 1.0)
    consumer.close()
    docs = {RawDocument.from_bytes(r.value).url.split("/")[-1]: RawDocument.from_bytes(r.value)
            for r in records if r.topic == settings.topics.raw}
    figures = {m.source: m for m in (CrawlStats.from_bytes(r.value) for r in records
                                     if r.topic == settings.topics.crawl_stats)}
    return settings, stats, hits, docs, figures


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    return crawl(tmp_path_factory.mktemp("images"))


def payloads_in_archive(settings) -> dict[str, bytes]:
    """Every archived response's payload, by its URL's path."""
    archive = EvidenceArchive(settings.data_dir / "evidence")
    records = (archive.read(path.name.split(".")[0]) for path in archive.root.rglob("*.warc.gz"))
    return {record["url"].split("/", 3)[-1]: record["payload"] for record in records}


def test_a_page_gets_the_hashes_of_the_images_it_shows(crawled):
    _, stats, hits, docs, _ = crawled
    doc = docs["gallery.html"]
    shown = {ref.url.split("/", 3)[-1]: ref for ref in doc.images}
    assert set(shown) == {"images/poster.png", "images/poster.jpg", "images/flag.gif"}  # img, srcset, og:image
    for path, ref in shown.items():
        body = image_routes()["/" + path][2]
        assert ref.sha256 == hashlib.sha256(body).hexdigest() and ref.md5 == hashlib.md5(body).hexdigest()
        assert ref.pdq and len(ref.pdq) == 64 and ref.pdq_quality >= 50
        assert (ref.width, ref.height) == (320, 240) and not ref.archived
    assert "/images/small.jpg" not in hits  # the srcset's largest candidate only
    assert stats["gallery"]["vigil/images/hashed"] == 3 + MAX_IMAGES
    assert stats["gallery"]["finish_reason"] == "finished"


def test_an_image_redirected_to_the_metadata_address_is_refused(crawled):
    _, stats, hits, docs, _ = crawled
    assert hits["/images/to-metadata.png"] == 1
    assert stats["gallery"]["vigil/images/skipped/non_public_address"] == 1
    assert stats["gallery"]["vigil/refused/non_public_address"] == 1
    assert not any("meta-data" in ref.url for ref in docs["gallery.html"].images)


def test_a_decompression_bomb_is_skipped_with_its_reason_counted(crawled):
    _, stats, hits, _, figures = crawled
    assert hits["/images/bomb.png"] == 1
    assert stats["gallery"]["vigil/images/skipped/decompression_bomb"] == 1
    assert figures["gallery"].errors["images/skipped/decompression_bomb"] == 1


def test_an_image_over_the_byte_limit_is_refused_while_downloading(crawled):
    _, stats, _, _, figures = crawled
    assert stats["gallery"]["vigil/images/skipped/too_large"] == 1
    assert stats["gallery"]["downloader/response_bytes"] < 2 * IMAGE_BYTE_LIMIT  # cut off, not read whole
    assert figures["gallery"].errors["images/skipped/too_large"] == 1


def test_wrong_content_types_and_undecodable_bytes_are_skipped_and_counted(crawled):
    _, stats, hits, _, figures = crawled
    assert hits["/images/fake.jpg"] == 1 and hits["/images/blob.jpg"] == 1  # text/html, application/octet-stream
    assert stats["gallery"]["vigil/images/skipped/content_type"] == 2
    assert stats["gallery"]["vigil/images/skipped/not_an_image"] == 1  # image/png that is no PNG
    assert figures["gallery"].errors["images/skipped/content_type"] == 2
    assert "vigil/refused/content_type" not in stats["gallery"]  # pages' own counter stays the pages'


def test_robots_txt_and_off_site_rules_hold_for_images(crawled):
    _, stats, hits, _, _ = crawled
    assert "/private/banner.png" not in hits
    assert stats["gallery"]["vigil/images/skipped/robots_txt"] == 1 and stats["gallery"]["robotstxt/forbidden"] == 1
    assert stats["gallery"]["vigil/images/skipped/offsite"] == 1  # http://cdn.example/logo.png, never resolved


def test_images_per_page_are_capped(crawled):
    _, stats, hits, docs, figures = crawled
    assert len(docs["many.html"].images) == MAX_IMAGES
    assert sum(hits.get(f"/images/n{n}.png", 0) for n in range(MANY_IMAGES)) == MAX_IMAGES
    assert stats["gallery"]["vigil/cut/images_per_page"] == MANY_IMAGES - MAX_IMAGES
    assert figures["gallery"].pages == 3  # the two pages and robots.txt: images are not pages


def test_retained_media_is_in_the_archive_and_marked_archived(crawled):
    settings, stats, _, docs, _ = crawled
    [ref] = docs["evidence.html"].images
    assert ref.archived and stats["evidence"]["vigil/images/archived"] == 1
    payloads = payloads_in_archive(settings)
    assert payloads["images/evidence.png"] == image_routes()["/images/evidence.png"][2]
    assert hashlib.sha256(payloads["images/evidence.png"]).hexdigest() == ref.sha256


def test_without_retain_media_image_bytes_are_not_kept(crawled):
    settings, stats, _, docs, _ = crawled
    payloads = payloads_in_archive(settings)
    assert "images/gallery.html" in payloads  # the page itself is evidence
    images = {path for path in payloads if not path.endswith((".html", ".txt"))}
    assert images == {"images/evidence.png"}  # the retaining source's image, none of the gallery's
    assert "vigil/images/archived" not in stats["gallery"]


def test_image_fetching_can_be_switched_off(tmp_path):
    _, stats, hits, docs, _ = crawl(tmp_path, fetch_images=False)
    assert docs["gallery.html"].images == [] and docs["evidence.html"].images == []
    assert not [path for path in hits if path.startswith("/images/") and not path.endswith(".html")]
    assert "vigil/images/requested" not in stats["gallery"]
