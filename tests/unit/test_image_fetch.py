"""The pieces of image fetching: which images a page shows, how many are taken, why one is refused, what the
worker makes of the bytes, and the settings that govern it."""
from __future__ import annotations

import hashlib
import os
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone

import pytest
import yaml
from scrapy import Request, Spider
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from crawlers.evidence import EvidenceArchive
from crawlers.images import best_candidate, image_work, images_to_fetch, refusal_reason, shown_images
from crawlers.items import PageItem
from crawlers.middlewares import (
    ContentTypeMiddleware,
    ImageRefused,
    NonPublicAddress,
    OffsiteMiddleware,
    OffsiteRefused,
    Stopped,
)
from crawlers.pipelines import DocumentPipeline
from crawlers.sources import Source, load_sources
from crawlers.spiders.forum import ForumSpider
from crawlers.spiders.site import SiteSpider
from crawlers.spiders.telegram import TelegramSpider
from streams.config import ConfigError, VigilSettings, load_settings
from tests.community_site import channel_page
from tests.fixture_site import image_routes, poster

PAGE = "http://site.example/articles/1.html"
CAPTURED = datetime(2026, 1, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize("srcset, best", [
    ("a.jpg 480w, b.jpg 1200w, c.jpg 800w", "b.jpg"),
    ("a.jpg 1x, b.jpg 2x", "b.jpg"),
    ("only.jpg", "only.jpg"),
    ("data:image/png;base64,AAAA 2x, real.png 1x", "real.png"),
    ("", None),
])
def test_the_largest_srcset_candidate_is_taken(srcset, best):
    assert best_candidate(srcset) == best


def test_a_page_shows_its_img_sources_srcsets_picture_sources_and_og_image():
    html = ('<html><head><meta property="og:image" content="/og.png"></head><body>'
            '<img src="/a.png"><img src="/small.jpg" srcset="/small.jpg 300w, /large.jpg 900w">'
            '<picture><source srcset="/p.webp 1x, /p2.webp 2x"><img src="/p.jpg"></picture>'
            '<img alt="none"></body></html>')
    response = HtmlResponse(PAGE, body=html.encode(), encoding="utf-8")
    assert shown_images(response) == ["/a.png", "/large.jpg", "/p.jpg", "/p2.webp", "/og.png"]


def test_images_are_taken_once_each_up_to_the_cap_per_response_across_its_posts():
    response = HtmlResponse(PAGE, body=b"<html></html>", request=Request(PAGE))
    first, cut = images_to_fetch(response, ["/a.png", "/a.png#x", "data:image/png;base64,AA", "/b.png"], limit=3)
    assert first == ["http://site.example/a.png", "http://site.example/b.png"] and cut == 0
    second, cut = images_to_fetch(response, ["/b.png", "/c.png", "/d.png", "/e.png"], limit=3)  # another post
    assert second == ["http://site.example/b.png", "http://site.example/c.png"] and cut == 2


@pytest.mark.parametrize("error, reason", [
    (NonPublicAddress("non-public address 169.254.169.254"), "non_public_address"),
    (OffsiteRefused("Filtered offsite request to 'cdn.example'"), "offsite"),
    (ImageRefused("content_type", "text/html served for an image"), "content_type"),
    (IgnoreRequest("Forbidden by robots.txt"), "robots_txt"),
    (DownloadCancelledError("larger than download max size"), "too_large"),
    (IgnoreRequest("... exceeded DOWNLOAD_MAXSIZE (1024 B) during decompression."), "too_large"),
    (IgnoreRequest("something else"), "refused"),
    (TimeoutError("took too long"), "download_error"),
    (Stopped("the crawl was stopped"), None),
])
def test_refusals_are_named_for_their_counters(error, reason):
    assert refusal_reason(error) == reason


def test_the_worker_hashes_an_image_and_keeps_no_bytes_unless_asked(tmp_path):
    data = poster(11, "PNG")
    ref = image_work(data, PAGE, 50_000_000, None, None, CAPTURED)
    assert ref.sha256 == hashlib.sha256(data).hexdigest() and ref.md5 == hashlib.md5(data).hexdigest()
    assert ref.pdq and not ref.archived and (ref.width, ref.height) == (320, 240)
    assert image_work(image_routes()["/images/bomb.png"][2], PAGE, 50_000_000, None, None, CAPTURED) == \
        "decompression bomb"
    assert image_work(b"<html>no image</html>", PAGE, 50_000_000, None, None, CAPTURED) == "not an image"
    assert image_work(data, PAGE, 1000, None, None, CAPTURED) == "too many pixels"  # 76,800 pixels, in a real file
    assert not list(tmp_path.iterdir())


def test_the_worker_archives_a_retained_image(tmp_path):
    data = poster(12, "JPEG")
    raw = {"url": "http://site.example/p.jpg", "status": 200, "reason": "OK",
           "headers": [("Content-Type", "image/jpeg")], "body": data}
    ref = image_work(data, PAGE, 50_000_000, tmp_path, raw, CAPTURED)
    assert ref.archived
    [path] = tmp_path.rglob("*.warc.gz")
    record = EvidenceArchive(tmp_path).read(path.name.split(".")[0])
    assert record["payload"] == data and record["url"] == "http://site.example/p.jpg"
    assert image_work(b"not an image", PAGE, 50_000_000, tmp_path, {**raw, "body": b"x"}, CAPTURED) == "not an image"
    assert len(list(tmp_path.rglob("*.warc.gz"))) == 1  # what is not hashed is not kept


def content_types():
    crawler = get_crawler(Spider, {"VIGIL_ALLOWED_CONTENT_TYPES": ["text/html"],
                                   "VIGIL_IMAGE_CONTENT_TYPES": ["image/png", "image/jpeg"]})
    return ContentTypeMiddleware.from_crawler(crawler)


@pytest.mark.parametrize("content_type", [b"text/html", b"application/octet-stream", b"image/svg+xml", None])
def test_an_image_request_takes_image_types_only(content_type):
    request = Request("http://site.example/x.jpg", meta={"vigil_image": True})
    headers = {"Content-Type": content_type} if content_type else {}
    with pytest.raises(ImageRefused) as refused:
        content_types().process_response(request, Response(request.url, headers=headers, body=b"x"))
    assert refused.value.reason == "content_type"


def test_an_image_is_not_refused_as_binary_and_a_page_request_still_refuses_images():
    middleware = content_types()
    image = Request("http://site.example/x.png", meta={"vigil_image": True})
    body = bytes(range(256))
    response = Response(image.url, headers={"Content-Type": "image/png"}, body=body)
    assert middleware.process_response(image, response) is response
    missing = Response(image.url, status=404, headers={"Content-Type": "text/html"}, body=b"gone")
    assert middleware.process_response(image, missing) is missing  # counted by its status instead
    page = Request("http://site.example/x.png")
    with pytest.raises(IgnoreRequest):
        middleware.process_response(page, response)
    assert middleware.stats.get_value("vigil/refused/content_type") == 1


def test_media_domains_admit_images_only():
    crawler = get_crawler(Spider)
    spider = Spider(name="site", allowed_domains=["site.example"])
    spider.source = Source(id="s", start_urls=["http://site.example/"], media_domains=["cdn.example"])
    crawler.spider = spider
    offsite = OffsiteMiddleware.from_crawler(crawler)
    offsite.spider_opened(spider)
    assert offsite.process_request(Request("http://img.cdn.example/a.png", meta={"vigil_image": True})) is None
    with pytest.raises(OffsiteRefused):
        offsite.process_request(Request("http://img.cdn.example/page.html"))  # pages there are never crawled
    with pytest.raises(OffsiteRefused):
        offsite.process_request(Request("http://elsewhere.example/a.png", meta={"vigil_image": True}))


@pytest.mark.parametrize("variable, value, field", [
    ("VIGIL_CRAWLER_MAX_IMAGE_BYTES", "0", "crawler.max_image_bytes"),
    ("VIGIL_CRAWLER_MAX_IMAGES_PER_PAGE", "none", "crawler.max_images_per_page"),
    ("VIGIL_CRAWLER_MAX_IMAGE_PIXELS", "-5", "crawler.max_image_pixels"),
    ("VIGIL_CRAWLER_FETCH_IMAGES", "sometimes", "crawler.fetch_images"),
])
def test_invalid_image_settings_fail_naming_the_field(variable, value, field):
    with pytest.raises(ConfigError, match=field.replace(".", r"\.")):
        load_settings(environ={variable: value})


def test_image_settings_default_to_on_with_limits():
    crawler = VigilSettings().crawler
    assert crawler.fetch_images and 1024 * 1024 <= crawler.max_image_bytes <= crawler.max_response_bytes
    assert crawler.max_images_per_page >= 1 and crawler.max_image_pixels == 50_000_000


def test_retain_media_is_off_by_default_and_checked(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - {id: a, start_urls: ['http://a.example/']}\n"
                    "  - {id: b, start_urls: ['http://b.example/'], retain_media: sometimes}\n")
    with pytest.raises(ConfigError, match=r"source b: retain_media"):
        load_sources(path)
    assert Source(id="a", start_urls=["http://a.example/"]).retain_media is False


def test_a_dead_worker_is_replaced(tmp_path):
    settings = VigilSettings.model_validate({"data_dir": str(tmp_path / "data")})
    pipeline = DocumentPipeline(settings, get_crawler(Spider, {"VIGIL_FETCH_IMAGES": False}))
    try:
        with pytest.raises(BrokenProcessPool):
            pipeline.submit(os._exit, 1).result(timeout=60)  # as a decoder crashing in native code would
        assert pipeline.submit(abs, -3).result(timeout=60) == 3
        assert pipeline.stats.get_value("vigil/worker_restarts") == 1
    finally:
        pipeline.close_spider()


def spider_for(tmp_path, cls, **source):
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"sources": [{"id": "s", **source}]}))
    spider = cls(source="s", sources=str(path))
    spider.crawler = get_crawler(cls)
    spider.fetch_images, spider.max_images = True, 2
    return spider


def test_a_channel_messages_photos_are_fetched(tmp_path):
    url = "https://t.me/s/vigilchan"
    spider = spider_for(tmp_path, TelegramSpider, kind="telegram", start_urls=[url])
    response = HtmlResponse(url, body=channel_page(102).encode(), encoding="utf-8",
                            request=Request(url, meta={"channel_url": url}))
    [item] = [output for output in spider.parse(response) if isinstance(output, PageItem)]
    assert item["image_urls"] == ["https://cdn.example/p1.jpg"] == item["post"]["media"]


def test_a_forum_posts_images_are_its_media_and_fetched_up_to_the_cap(tmp_path):
    url = "http://forum.example/viewtopic.php?t=1"
    spider = spider_for(tmp_path, ForumSpider, kind="forum", forum="phpbb", start_urls=[url])
    posts = "".join(f'<div class="post" id="p{n}"><div class="content">Post {n} with a poster.'
                    f'<img src="/files/{n}.png"><img src="/files/{n}b.png"></div></div>' for n in (1, 2))
    html = f"<html><head><title>Thread</title></head><body><h2 class='topic-title'><a>Thread</a></h2>{posts}</body>"
    response = HtmlResponse(url, body=html.encode(), encoding="utf-8", request=Request(url))
    first, second = [output for output in spider.parse_thread(response) if isinstance(output, PageItem)]
    assert first["post"]["media"] == ["http://forum.example/files/1.png", "http://forum.example/files/1b.png"]
    assert first["image_urls"] == first["post"]["media"]
    assert second["image_urls"] == []  # two per page, the first post took them
    assert spider.crawler.stats.get_value("vigil/cut/images_per_page") == 2


def test_nothing_is_taken_with_image_fetching_off(tmp_path):
    spider = spider_for(tmp_path, SiteSpider, start_urls=["http://site.example/"])
    spider.fetch_images = False
    response = HtmlResponse(PAGE, body=b'<html><body><img src="/a.png"></body></html>', request=Request(PAGE))
    assert spider.page_item(response)["image_urls"] == []
    spider.fetch_images = True
    assert spider.page_item(response)["image_urls"] == ["http://site.example/a.png"]


def test_only_well_formed_web_links_are_kept_for_fetching_and_as_media():
    from crawlers.images import web_links

    response = HtmlResponse("https://forum.example/t/1", body=b"<html></html>")
    links = ["/a.png#top", "http://[x", "data:image/png;base64,iVBORw0KGgo=", "javascript:alert(1)", "/a.png",
             "https://cdn.example/b.jpg"]
    assert web_links(response, links) == ["https://forum.example/a.png", "https://cdn.example/b.jpg"]
