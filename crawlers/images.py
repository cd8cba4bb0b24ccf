"""The images crawled pages show, kept as hashes for known-content matching (logos, flags, posters).

Image requests go through the engine (`engine.download_async`, as Scrapy's media pipelines do), so every
downloader middleware applies to them as to pages: the address guard on each redirect hop, robots.txt, the
off-site rules, the per-domain delay and concurrency, the size limit (`download_maxsize`, also after
decompression) and the image content types. The bytes are hashed in the extraction worker, then discarded,
unless the source retains media: then the response goes into the evidence archive beside the pages.
"""
from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http.request import NO_CALLBACK

from crawlers.evidence import EvidenceArchive, http_record
from crawlers.middlewares import ImageRefused, NonPublicAddress, OffsiteRefused, Stopped
from streams.hashlists.images import ImageSkipped, hash_image
from streams.schemas import ImageRef, utcnow

log = logging.getLogger(__name__)

IMAGE_PATH = re.compile(r"\.(jpe?g|png|gif|webp)$", re.IGNORECASE)  # a post's media link that is a picture
# Outcomes remembered per crawl: a site's logo, on every page, is fetched and hashed once.
REMEMBERED_IMAGES = 10_000


def srcset_candidates(srcset: str):
    """(url, descriptor) for each candidate, split as browsers do (HTML's srcset parsing, without its errors):
    a URL runs to whitespace, so the commas in a data: URI stay in it; its descriptor runs to the next comma."""
    position, end = 0, len(srcset)
    while position < end:
        while position < end and (srcset[position].isspace() or srcset[position] == ","):
            position += 1
        start = position
        while position < end and not srcset[position].isspace():
            position += 1
        url, descriptor = srcset[start:position], ""
        if url.endswith(","):
            url = url.rstrip(",")
        else:
            start = position
            while position < end and srcset[position] != ",":
                position += 1
            descriptor = srcset[start:position].strip()
        if url:
            yield url, descriptor


def best_candidate(srcset: str) -> str | None:
    """The largest image of a srcset ("a.jpg 480w, b.jpg 800w" or "a.jpg 1x, b.jpg 2x"): hash lists hold
    the originals, and PDQ sees through resizing anyway."""
    best, best_size = None, -1.0
    for url, descriptor in srcset_candidates(srcset):
        if url.startswith("data:"):
            continue
        descriptor = descriptor or "1x"
        try:
            size = float(descriptor[:-1]) if descriptor[-1] in ("w", "x") else 1.0
        except ValueError:
            continue
        if size > best_size:
            best, best_size = url, size
    return best


def shown_images(response) -> list[str]:
    """The images a page shows, as written: each <img> (its srcset's largest candidate, else its src), each
    <picture> source, and the page's og:image."""
    urls = [best_candidate(img.attrib.get("srcset", "")) or img.attrib.get("src", "") for img in response.css("img")]
    urls += [best_candidate(srcset) for srcset in response.css("picture source::attr(srcset)").getall()]
    urls += response.css("meta[property='og:image']::attr(content), "
                         "meta[property='og:image:url']::attr(content)").getall()
    return [url.strip() for url in urls if url and url.strip()]


def web_links(response, urls: list[str]) -> list[str]:
    """The absolute http(s) URLs of these links, without fragments, each once: data: URIs (inline bytes),
    scripts and malformed addresses (urljoin raises on "http://[x") are left out."""
    found = []
    for url in urls:
        try:
            absolute = response.urljoin(url).split("#")[0]
        except ValueError:
            continue
        if urlsplit(absolute).scheme in ("http", "https"):
            found.append(absolute)
    return list(dict.fromkeys(found))


def images_to_fetch(response, urls: list[str], limit: int) -> tuple[list[str], int]:
    """Of the images a response shows (for one item of it), those to fetch: absolute http(s) URLs, each once per
    response, at most `limit` per response however many posts it holds; and how many were cut."""
    taken: set[str] = response.meta.setdefault("vigil_images", set())
    chosen, cut = [], 0
    for absolute in web_links(response, urls):
        if absolute in taken:
            chosen.append(absolute)  # another post of the same page shows it: already counted
        elif len(taken) < limit:
            taken.add(absolute)
            chosen.append(absolute)
        else:
            cut += 1
    return chosen, cut


def image_work(data: bytes, url: str, max_pixels: int, archive_root: Path | None, raw: dict | None,
               fetched_at: datetime) -> ImageRef | str:
    """An image's CPU work, in the worker process: its hashes, and its WARC capture when the source retains
    media (`raw`: the response's url, status, reason and headers; its body is `data`, sent to the worker once);
    the reason it is skipped (ImageSkipped's) instead when it cannot or must not be decoded."""
    try:
        ref = hash_image(data, url, max_pixels=max_pixels)
    except ImageSkipped as skipped:
        return skipped.reason
    if archive_root is not None and raw is not None:
        EvidenceArchive(archive_root).store(raw["url"], raw["status"], raw["reason"], raw["headers"], data,
                                            fetched_at)
        ref = ref.model_copy(update={"archived": True})
    return ref


def refusal_reason(error: BaseException) -> str | None:
    """Why an image was not downloaded, as its counter names it; None for a crawl being stopped."""
    if isinstance(error, Stopped):
        return None
    if isinstance(error, ImageRefused):
        return error.reason
    if isinstance(error, NonPublicAddress):
        return "non_public_address"
    if isinstance(error, OffsiteRefused):
        return "offsite"
    # Over download_maxsize: cancelled while downloading, or ignored while decompressing (HttpCompression's).
    if isinstance(error, DownloadCancelledError) or "DOWNLOAD_MAXSIZE" in str(error):
        return "too_large"
    if isinstance(error, IgnoreRequest):
        return "robots_txt" if "robots.txt" in str(error) else "refused"
    return "download_error"


def counter(reason: str) -> str:
    return "vigil/images/skipped/" + reason.replace(" ", "_")


class ImageFetcher:
    """Fetches and hashes the images of the documents the DocumentPipeline builds, using its worker process.
    Each image is fetched once per crawl (pages showing it while it is under way wait for it); every image
    not hashed is counted by its reason (vigil/images/skipped/*, among the crawl's errors), and the page is
    published without it."""

    def __init__(self, crawler, submit: Callable[..., Future]):
        settings = crawler.settings
        self.crawler = crawler
        self.stats = crawler.stats
        self.submit = submit  # to the extraction worker (DocumentPipeline.submit)
        self.max_bytes = settings.getint("VIGIL_MAX_IMAGE_BYTES")
        self.max_pixels = settings.getint("VIGIL_MAX_IMAGE_PIXELS")
        self.outcomes: OrderedDict[str, asyncio.Future[ImageRef | None]] = OrderedDict()
        # Downloaded bodies wait for the worker; this bounds how many (and their memory) at once.
        self.in_hand = asyncio.Semaphore(settings.getint("CONCURRENT_REQUESTS"))

    async def hashes(self, urls: list[str], page_url: str, archive_root: Path | None) -> list[ImageRef]:
        """The hashes of a page's images, in the page's order; images skipped or refused are left out."""
        refs = await asyncio.gather(*(self.image(url, page_url, archive_root) for url in urls))
        return [ref for ref in refs if ref is not None]

    async def image(self, url: str, page_url: str, archive_root: Path | None) -> ImageRef | None:
        known = self.outcomes.get(url)
        if known is not None:
            self.outcomes.move_to_end(url)
            self.stats.inc_value("vigil/images/repeated")
            return await asyncio.shield(known)
        outcome: asyncio.Future[ImageRef | None] = asyncio.get_running_loop().create_future()
        self.outcomes[url] = outcome
        if len(self.outcomes) > REMEMBERED_IMAGES:
            self.outcomes.popitem(last=False)
        ref = None
        try:
            async with self.in_hand:
                ref = await self._fetch_and_hash(url, page_url, archive_root)
        finally:
            outcome.set_result(ref)  # also when cancelled: pages waiting for it go on without it
        return ref

    async def _fetch_and_hash(self, url: str, page_url: str, archive_root: Path | None) -> ImageRef | None:
        request = Request(url, callback=NO_CALLBACK, headers={"Referer": page_url},
                          meta={"vigil_image": True, "download_maxsize": self.max_bytes,
                                "download_warnsize": self.max_bytes // 2})
        self.stats.inc_value("vigil/images/requested")
        try:
            response = await self.crawler.engine.download_async(request)
        except Exception as error:  # refused by a safeguard, too large, unreachable: the page goes on without it
            reason = refusal_reason(error)
            if reason:
                self._skipped(url, reason, str(error) or type(error).__name__)
            return None
        self.stats.inc_value("vigil/images/responses")  # not pages: taken off the crawl's page count
        if response.status != 200:
            self._skipped(url, f"http_{response.status}", f"HTTP {response.status}")
            return None
        # The body goes to the worker once, as the bytes to hash; the archive takes it from there.
        raw = {k: v for k, v in http_record(response).items() if k != "body"} if archive_root is not None else None
        try:
            result = await asyncio.wrap_future(self.submit(
                image_work, response.body, url, self.max_pixels, archive_root, raw, utcnow()))
        except Exception as error:  # a decoder bug, or a crash of the worker, must not take the page down with it
            self._skipped(url, "hash_error", f"hashing failed: {type(error).__name__}: {error}", logging.WARNING)
            return None
        if isinstance(result, str):
            self._skipped(url, result, "")
            return None
        self.stats.inc_value("vigil/images/hashed")
        if result.archived:
            self.stats.inc_value("vigil/images/archived")
        return result

    def _skipped(self, url: str, reason: str, detail: str, level: int = logging.INFO) -> None:
        self.stats.inc_value(counter(reason))
        log.log(level, "skipped the image %s: %s", url, detail or reason.replace("_", " "))
