"""Serves the demo pages (pages.yaml) on 127.0.0.1 with the boilerplate of a real site around them."""
from __future__ import annotations

import html
import threading
from dataclasses import dataclass
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import yaml

PAGES_FILE = Path(__file__).with_name("pages.yaml")
ROBOTS = "User-agent: *\nDisallow: /private/\n"


@dataclass(frozen=True)
class DemoPage:
    path: str
    title: str
    category: str
    expect: str  # "flag" or "clean"
    body: tuple[str, ...]


def load_pages(copies: int = 1) -> tuple[str, list[DemoPage]]:
    """The demo pages; copies > 1 adds numbered editions under /copyN/ (distinct texts), for benchmarks."""
    data = yaml.safe_load(PAGES_FILE.read_text(encoding="utf-8"))
    pages = [DemoPage(p["path"], p["title"], p["category"], p["expect"], tuple(p["body"])) for p in data["pages"]]
    for n in range(1, copies):
        pages += [DemoPage(f"/copy{n}{p.path}", p.title, p.category, p.expect, p.body + (f"Edition {n}.",))
                  for p in pages[: len(data["pages"])]]
    return data["site"], pages


NAV = ('<header><nav><a href="/">Home</a> | <a href="/">News</a> | <a href="/">Opinion</a> | '
       '<a href="/">Forums</a></nav></header>')
FOOTER_LINKS = '<a href="/">Privacy</a> <a href="/">Contact</a>'


def _layout(site: str, title: str, content: str) -> str:
    # Navigation, cookie banner and footer are the boilerplate extraction must leave out.
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)} | {html.escape(site)}</title></head>
<body>
<div class="cookie-banner">We use cookies to improve your experience. <a href="/">Accept all</a></div>
{NAV}
<main>{content}</main>
<footer><p>&copy; 2026 {html.escape(site)}. All rights reserved. {FOOTER_LINKS}</p></footer>
</body></html>"""


def render(site: str, pages: list[DemoPage]) -> dict[str, bytes]:
    rendered = {}
    for page in pages:
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in page.body)
        article = f"<article><h1>{html.escape(page.title)}</h1>{paragraphs}</article>"
        rendered[page.path] = _layout(site, page.title, article).encode("utf-8")
    links = "".join(f'<li><a href="{p.path}">{html.escape(p.title)}</a></li>' for p in pages)
    rendered["/"] = _layout(site, "Home", f"<h1>{html.escape(site)}</h1><ul>{links}</ul>"
                            '<p><a href="/private/members.html">Members only</a></p>').encode("utf-8")
    rendered["/private/members.html"] = _layout(site, "Members", "<p>Disallowed by robots.txt.</p>").encode("utf-8")
    return rendered


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, pages: dict[str, bytes], *args, **kwargs):
        self.pages = pages
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = self.path.split("?")[0]
        if path == "/robots.txt":
            body, content_type, status = ROBOTS.encode(), "text/plain", 200
        elif path in self.pages:
            body, content_type, status = self.pages[path], "text/html; charset=utf-8", 200
        else:
            body, content_type, status = b"not found", "text/plain", 404
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # quiet: the crawler logs what it fetched
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's default of 5 drops connections under a crawler's concurrency


class DemoSite:
    """The demo site on a free loopback port, in a background thread; use as a context manager."""

    def __init__(self, port: int = 0, copies: int = 1):
        self.site, self.pages = load_pages(copies)
        self.server = _Server(("127.0.0.1", port), partial(_Handler, render(self.site, self.pages)))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "DemoSite":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def sources_yaml(self, source_id: str = "riverside") -> str:
        return yaml.safe_dump({"sources": [{
            "id": source_id, "kind": "site", "start_urls": [self.url + "/"], "max_depth": 2,
            "schedule": "*/30 * * * *", "allow_private_addresses": True, "tags": ["demo"],
        }]}, sort_keys=False)
