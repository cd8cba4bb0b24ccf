"""Safety middlewares: refuse non-public addresses and unwanted content before it reaches a spider."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from crawlers.addresses import refused_address

log = logging.getLogger(__name__)


class CrawlerMiddleware:
    """A downloader middleware that sees the crawler (its spider's source and state, its stats)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)


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
            raise IgnoreRequest(f"non-public address {address} ({reason})")
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
                or request.meta.get("vigil_follow_links")):
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


class ContentTypeMiddleware:
    """Drops responses whose content type is not on the allowlist, and binaries disguised as text."""

    def __init__(self, allowed: list[str], stats):
        self.allowed = tuple(allowed)
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getlist("VIGIL_ALLOWED_CONTENT_TYPES"), crawler.stats)

    def process_response(self, request, response):
        if request.url.endswith("/robots.txt") or response.status in (301, 302, 303, 304, 307, 308):
            return response
        content_type = response.headers.get(b"Content-Type", b"").decode("latin-1").split(";")[0].strip().lower()
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
