"""A local web server that tests the crawler's bounds and log: a page with thousands of links, a robots.txt
that never answers, pages that never answer, redirects off the site. It counts every request, by path."""
from __future__ import annotations

import threading
from collections import Counter
from functools import partial
from http.server import BaseHTTPRequestHandler

import yaml

from tests.local_server import LocalServer

REDIRECTS = {"/away": "http://elsewhere.example/landing", "/to-metadata": "http://169.254.169.254/latest/meta-data/"}


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, site: BoundsSite, *args, **kwargs):
        self.site = site
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802
        path = self.path.split("?")[0]
        with self.site.lock:
            self.site.hits[path] += 1
        if path == "/robots.txt":
            if self.site.hang_robots:
                self.site.release.wait()
            body = b"User-agent: *\nDisallow: /private/\n"
        elif path == "/":
            links = [f"/p/{n}" for n in range(self.site.links)] + (list(REDIRECTS) if self.site.redirects else [])
            body = ("<html><body><h1>Index</h1>" + "".join(f'<a href="{link}">{link}</a> ' for link in links)
                    + "</body></html>").encode()
        elif path in REDIRECTS and self.site.redirects:
            self.send_response(302)
            self.send_header("Location", REDIRECTS[path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        elif path.startswith("/p/") and self.site.hang_pages:
            self.site.release.wait()
            body = b"<html><body><p>Too late.</p></body></html>"
        elif path.startswith("/p/") and path[3:].isdigit() and int(path[3:]) < self.site.pages:
            body = (f"<html><head><title>Page {path[3:]}</title></head><body><article><p>Page {path[3:]} of the "
                    "bounds site, with a sentence or two of ordinary text for the extractor to keep.</p>"
                    "</article></body></html>").encode()
        else:
            self.send_error(404)
            return
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/html" if path != "/robots.txt" else "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler gave up waiting

    def log_message(self, format, *args):
        pass


class BoundsSite(LocalServer):
    """links: how many links the index page has, to /p/0, /p/1, ...; the first `pages` of them are pages
    with text, the rest answer 404. redirects: the index also links to REDIRECTS (off the site).
    hang_robots / hang_pages: /robots.txt or /p/N answer only when the server shuts down."""

    def __init__(self, links: int = 10, pages: int = 0, redirects: bool = False, hang_robots: bool = False,
                 hang_pages: bool = False):
        self.links, self.pages, self.redirects = links, pages, redirects
        self.hang_robots, self.hang_pages = hang_robots, hang_pages
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.release = threading.Event()
        super().__init__(partial(_Handler, self))

    def __exit__(self, *exc):
        self.release.set()
        super().__exit__(*exc)

    def pages_requested(self) -> int:
        """Requests for anything but robots.txt."""
        with self.lock:
            return sum(count for path, count in self.hits.items() if path != "/robots.txt")

    def sources_yaml(self, **extra) -> str:
        return yaml.safe_dump({"sources": [{"id": "bounds", "start_urls": [self.url + "/"], "max_depth": 2,
                                            "allow_private_addresses": True, **extra}]})
