"""Safety middlewares: refuse non-public addresses, off-site redirects and unwanted content before it reaches
a spider; read robots.txt conservatively; stop at once when told to."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware as ScrapyOffsiteMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.url import url_is_from_any_domain
from twisted.internet.defer import Deferred

from crawlers.addresses import refused_address

log = logging.getLogger(__name__)

stop_now = object()  # a signal (crawlers.process sends it on SIGTERM): send nothing more, drop what waits


class CrawlerMiddleware:
    """A downloader middleware that sees the crawler (its spider's source and state, its stats)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


class NonPublicAddress(IgnoreRequest):
    """The request's host resolves to an address Vigil does not fetch from."""


class OffsiteRefused(IgnoreRequest):
    """The request leads off the source's domains."""


class AddressGuardMiddleware(CrawlerMiddleware):
    """Refuses requests whose host resolves to a non-public address. Runs for every request, so also for
    each redirect hop and robots.txt. A source's allow_private_addresses admits private and loopback
    addresses (local test sites); link-local and cloud metadata addresses are refused always."""

    def process_request(self, request):
        source = getattr(self.crawler.spider, "source", None)
        host = urlsplit(request.url).hostname or ""
        refused = refused_address(host, allow_private=source is not None and source.allow_private_addresses)
        if refused:
            address, reason = refused
            self.stats.inc_value("vigil/refused/non_public_address")
            log.warning("refused %s: %s resolves to %s (%s); Vigil crawls public addresses only "
                        "(a source's allow_private_addresses admits private ones)", request.url, host, address, reason)
            raise NonPublicAddress(f"non-public address {address} ({reason})")
        return None


class OffsiteMiddleware(ScrapyOffsiteMiddleware):
    """Scrapy's, with an INFO line for each refused redirect: a page that sends the crawler off its source's
    domains (to another site, to a cloud metadata address) is worth a line. Off-site links are not (a page has
    hundreds): those keep Scrapy's one DEBUG line per domain. Images (crawlers/images.py) may also come from
    the source's media_domains (its CDN), and only images."""

    def process_request(self, request, spider=None):
        try:
            return super().process_request(request)
        except IgnoreRequest as refused:
            if request.meta.get("redirect_urls"):
                self.stats.inc_value("vigil/refused/offsite_redirect")
                log.info("refused the redirect from %s to %s: off-site (not in the source's domains)",
                         request.meta["redirect_urls"][-1], request.url)
            raise OffsiteRefused(str(refused)) from None

    def should_follow(self, request, spider):
        if super().should_follow(request, spider):
            return True
        media_domains = getattr(getattr(spider, "source", None), "media_domains", None)
        return bool(request.meta.get("vigil_image") and media_domains
                    and url_is_from_any_domain(request.url, media_domains))


class DisallowAll(RobotParser):
    """The rules for a site whose robots.txt could not be read: nothing may be fetched."""

    @classmethod
    def from_crawler(cls, crawler, robotstxt_body):
        return cls()

    def allowed(self, url, user_agent):
        return False


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    """Scrapy's, with robots.txt asked once, briefly, and read conservatively. Every request to a site waits for
    its robots.txt, so it has its own short timeout (VIGIL_ROBOTSTXT_TIMEOUT) and no retries: Scrapy's three
    tries of the download timeout held a hanging site for 90 s. A robots.txt that cannot be read (no answer,
    a refused address, a 5xx) means nothing on that site is crawled this run (RFC 9309, 2.3.1.4), where Scrapy
    would crawl all of it; a 4xx means no rules, as in Scrapy."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.timeout = crawler.settings.getfloat("VIGIL_ROBOTSTXT_TIMEOUT")

    async def robot_parser(self, request):
        url = urlparse_cached(request)
        if url.netloc not in self._parsers:
            self._parsers[url.netloc] = Deferred()  # fired once read: the site's other requests wait for it
            # Its redirects are followed off the site too (RFC 9309, 2.3.1.2); the address guard sees each hop.
            robots = Request(f"{url.scheme}://{url.netloc}/robots.txt", priority=self.DOWNLOAD_PRIORITY,
                             callback=NO_CALLBACK, meta={"dont_obey_robotstxt": True, "dont_retry": True,
                                                         "download_timeout": self.timeout, "allow_offsite": True})
            self._stats.inc_value("robotstxt/request_count")
            try:
                response = await self.crawler.engine.download_async(robots)
            except Exception as exc:
                self._unreadable(url.netloc, robots.url, str(exc) or type(exc).__name__)
            else:
                if response.status >= 500:
                    self._unreadable(url.netloc, robots.url, f"HTTP {response.status}")
                else:
                    await self._parse_robots(response, url.netloc, request)
        parser = self._parsers[url.netloc]
        return await maybe_deferred_to_future(parser) if isinstance(parser, Deferred) else parser

    def _unreadable(self, netloc: str, url: str, reason: str) -> None:
        self._stats.inc_value("vigil/refused/robots_unreadable")
        log.warning("could not read %s (%s): nothing on %s is crawled this run", url, reason, netloc)
        waiting = self._parsers[netloc]
        self._parsers[netloc] = rules = DisallowAll()
        if isinstance(waiting, Deferred):
            waiting.callback(rules)


class Stopped(IgnoreRequest):
    """The crawl was stopped before this request was sent."""


class PromptStopMiddleware(CrawlerMiddleware):
    """On the stop_now signal, nothing more is sent: requests waiting in the downloader's queues (for a free
    slot, for the delay) are dropped, and so are those still on their way through the middlewares (waiting for
    robots.txt). Only transfers under way finish, each within its timeout; Scrapy's own stop sends everything it
    holds first. Runs last before the downloader."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.stopping = False
        crawler.signals.connect(self.drop_unsent, signal=stop_now)

    def drop_unsent(self):
        self.stopping = True
        dropped = 0
        for slot in self.crawler.engine.downloader.slots.values():
            while slot.queue:
                _, waiting = slot.queue.popleft()
                waiting.errback(Stopped("the crawl was stopped before this request was sent"))
                dropped += 1
        self.stats.inc_value("vigil/stopped/unsent", dropped)
        log.info("stopping at once: %d requests waiting in the downloader dropped", dropped)

    def process_request(self, request):
        if self.stopping:
            self.stats.inc_value("vigil/stopped/unsent")
            raise Stopped("the crawl was stopped before this request was sent")
        return None


XML_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/x-gzip",
             "application/gzip", "application/octet-stream")  # feeds and (gzipped) sitemaps, when a spider asks


class NotModified(IgnoreRequest):
    """The server answered 304: the page has not changed since the last crawl."""


class ConditionalRequestMiddleware(CrawlerMiddleware):
    """Incremental crawling: asks with If-None-Match / If-Modified-Since for pages published before, and
    drops 304 Not Modified answers (counted), so a recrawl of an unchanged site fetches almost nothing."""

    def process_request(self, request):
        state = getattr(self.crawler.spider, "crawl_state", None)
        if (state is None or request.url.endswith("/robots.txt") or request.meta.get("vigil_xml")
                or request.meta.get("vigil_follow_links") or request.meta.get("vigil_image")):
            return None  # pages whose links are followed are always fetched whole: they lead to new pages
        known = state.validators(request.url)
        if known:
            etag, last_modified = known
            if etag:
                request.headers.setdefault(b"If-None-Match", etag.encode("latin-1"))
            if last_modified:
                request.headers.setdefault(b"If-Modified-Since", last_modified.encode("latin-1"))
        return None

    def process_response(self, request, response):
        if response.status == 304:
            self.stats.inc_value("vigil/unchanged/not_modified")
            raise NotModified(f"not modified since the last crawl: {request.url}")
        return response


class ImageRefused(IgnoreRequest):
    """An image's response is not one Vigil hashes; `reason` is short and fixed, for its counter."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason


class ContentTypeMiddleware:
    """Drops responses whose content type is not on the allowlist, and binaries disguised as text. An image's
    response (crawlers/images.py) must have one of the image types instead: a page, an octet stream or SVG
    served for an image is refused (counted by the image fetcher)."""

    def __init__(self, allowed: list[str], stats, image_types: list[str] | None = None):
        self.allowed = tuple(allowed)
        self.stats = stats
        self.image_types = frozenset(image_types or ())

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getlist("VIGIL_ALLOWED_CONTENT_TYPES"), crawler.stats,
                   crawler.settings.getlist("VIGIL_IMAGE_CONTENT_TYPES"))

    def process_response(self, request, response):
        if request.url.endswith("/robots.txt") or response.status in (301, 302, 303, 304, 307, 308):
            return response
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").split(";")[0].strip().lower()
        if request.meta.get("vigil_image"):
            if response.status >= 400:
                return response  # the image fetcher counts it by its status
            if content_type not in self.image_types:
                raise ImageRefused("content_type", f"{content_type or 'no content type'} served for an image")
            return response
        allowed = self.allowed + (XML_TYPES if request.meta.get("vigil_xml") else ())
        if content_type and not content_type.startswith(allowed):
            self.stats.inc_value("vigil/refused/content_type")
            log.info("skipped %s: content type %s is not on the allowlist", response.url, content_type)
            raise IgnoreRequest(f"content type {content_type}")
        if request.meta.get("vigil_xml"):
            return response  # feeds and sitemaps are parsed as XML (gzipped sitemaps are binary by nature)
        if b"\x00" in response.body[:2048] and not response.body.startswith((b"\xff\xfe", b"\xfe\xff")):
            self.stats.inc_value("vigil/refused/binary")
            log.info("skipped %s: binary content served as %s", response.url, content_type or "no content type")
            raise IgnoreRequest("binary content")
        return response
