"""A local news publisher with an RSS feed, an Atom feed and a (gzipped) sitemap index; its articles
answer conditional requests (ETag, Last-Modified) like a real web server, and can be edited between
crawls to test incremental crawling."""
from __future__ import annotations

import gzip
import hashlib
from email.utils import format_datetime
from functools import partial
from http.server import BaseHTTPRequestHandler

import yaml

from streams.schemas import utcnow
from tests.local_server import LocalServer

ARTICLES = {
    "/news/1.html": ("Market attack", "Police said three people were injured in the market attack on Tuesday. "
                     "Investigators are questioning two suspects and the market will reopen next week."),
    "/news/2.html": ("Court ruling", "The court sentenced a man who raised money for a banned group. The judge "
                     "said the sentence should deter others who fund violence abroad."),
    "/news/3.html": ("Market attack", "Police said three people were injured in the market attack on Tuesday. "
                     "Investigators are questioning two suspects and the market will reopen next month."),
    "/blog/a.html": ("Community day", "Join us on Saturday for the community open day at the library. Everyone "
                     "is welcome, bring your family and friends."),
    "/blog/b.html": ("Housing rally", "Tenants will rally for affordable housing outside the town hall this "
                     "weekend. Organisers expect a large crowd and a peaceful march."),
}


def article(title: str, text: str) -> bytes:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title></head><body><nav>Menu</nav>"
            f"<article><h1>{title}</h1><p>{text}</p><p>{text}</p></article><footer>Footer</footer>"
            "</body></html>").encode()


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, site: "PublisherSite", *args, **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802
        path = self.path.split("?")[0]
        self.site.hits[path] = self.site.hits.get(path, 0) + 1
        status, headers, body = self.site.response(path)
        etag, modified = headers.get("ETag"), headers.get("Last-Modified")
        if status == 200 and ((etag and self.headers.get("If-None-Match") == etag)
                              or (modified and self.headers.get("If-Modified-Since") == modified)):
            status, body = 304, b""
            self.site.not_modified += 1
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class PublisherSite(LocalServer):
    def __init__(self):
        self.hits: dict[str, int] = {}
        self.not_modified = 0
        self.articles = dict(ARTICLES)
        self.modified = {path: utcnow().replace(microsecond=0) for path in self.articles}
        super().__init__(partial(_Handler, self))

    def edit(self, path: str, text: str) -> None:
        """Change an article (a new text, a new Last-Modified, a new lastmod in the sitemap)."""
        from datetime import timedelta

        self.articles[path] = (self.articles[path][0], text)
        self.modified[path] = self.modified[path] + timedelta(minutes=5)

    def response(self, path: str):
        xml = {"Content-Type": "application/xml"}
        if path in self.articles:
            body = article(*self.articles[path])
            return 200, {"Content-Type": "text/html; charset=utf-8", "ETag": f'"{hashlib.sha1(body).hexdigest()}"',
                         "Last-Modified": format_datetime(self.modified[path], usegmt=True)}, body
        if path == "/feed.rss":
            items = "".join(
                f"<item><title>{self.articles[p][0]}</title><link>{self.url}{p}</link>"
                f"<pubDate>{format_datetime(self.modified[p], usegmt=True)}</pubDate>"
                f"<description>{self.articles[p][1]}</description></item>" for p in ("/news/1.html", "/news/2.html"))
            items += ("<item><title>Gone</title><link>{url}/news/gone.html</link><pubDate>Tue, 03 Nov 2026 10:00:00 "
                      "GMT</pubDate><description>&lt;p&gt;The page of this entry is gone, but the feed keeps its "
                      "text: the ministry announced new rules for charities.&lt;/p&gt;</description></item>"
                      "<item><title>Elsewhere</title><link>https://elsewhere.example/x</link></item>").format(url=self.url)
            return 200, {"Content-Type": "application/rss+xml"}, (
                f"<?xml version='1.0'?><rss version='2.0'><channel><title>News</title>{items}</channel></rss>").encode()
        if path == "/atom.xml":
            entries = "".join(
                f"<entry><title>{self.articles[p][0]}</title><link rel='alternate' href='{self.url}{p}'/>"
                f"<updated>{self.modified[p].isoformat()}</updated><summary>{self.articles[p][1]}</summary></entry>"
                for p in ("/blog/a.html", "/blog/b.html"))
            return 200, {"Content-Type": "application/atom+xml"}, (
                "<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Blog</title>"
                f"{entries}</feed>").encode()
        if path == "/sitemap_index.xml":
            return 200, xml, (
                "<?xml version='1.0'?><sitemapindex xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                f"<sitemap><loc>{self.url}/sitemap-news.xml</loc></sitemap>"
                f"<sitemap><loc>{self.url}/sitemap-blog.xml.gz</loc></sitemap></sitemapindex>").encode()
        if path in ("/sitemap-news.xml", "/sitemap-blog.xml.gz"):
            prefix = "/news/" if "news" in path else "/blog/"
            urls = "".join(f"<url><loc>{self.url}{p}</loc><lastmod>{self.modified[p].isoformat()}</lastmod></url>"
                           for p in self.articles if p.startswith(prefix))
            body = ("<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
                    f"{urls}</urlset>").encode()
            if path.endswith(".gz"):
                return 200, {"Content-Type": "application/x-gzip"}, gzip.compress(body)
            return 200, xml, body
        return 404, {"Content-Type": "text/plain"}, b"not found"

    def sources_yaml(self) -> str:
        common = {"allow_private_addresses": True, "delay_s": 0, "concurrency": 4}
        return yaml.safe_dump({"sources": [
            {"id": "rss", "kind": "feed", "start_urls": [f"{self.url}/feed.rss"], **common},
            {"id": "atom", "kind": "feed", "start_urls": [f"{self.url}/atom.xml"], **common},
            {"id": "map", "kind": "sitemap", "start_urls": [f"{self.url}/sitemap_index.xml"],
             "exclude": [r"/news/3\.html$"], **common},
            {"id": "dups", "kind": "sitemap", "start_urls": [f"{self.url}/sitemap-news.xml"], **common},
        ]})
