"""A local phpBB-style forum and a Telegram-style public channel preview, for the forum and telegram
spiders: two listing pages, threads over two pages, a channel that pages back with ?before=ID."""
from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import yaml

from tests.local_server import LocalServer

THREADS = {
    1: ("Travel plans", [[("p11", "ahmad_77", "2026-11-01T10:00:00+00:00", "Brothers, who is coming to the camp?"),
                          ("p12", "watcher", "2026-11-01T11:00:00+00:00", "Nobody should go there, it is a trap.")],
                         [("p13", "ahmad_77", "2026-11-02T09:00:00+00:00", "Message me for the route.")]]),
    2: ("Cooking thread", [[("p21", "chef", "2026-11-03T08:00:00+00:00", "Post your best lentil soup recipe.")]]),
    3: ("Old announcements", [[("p31", "admin", "2026-10-01T08:00:00+00:00", "The board rules were updated.")]]),
}
MESSAGES = {  # id -> (text, views, forwarded from, photo)
    101: ("Statement of the media office on the operation.", "1.2K", "othermedia", "https://cdn.example/p1.jpg"),
    102: ("Join our ranks. Details in the next post.", "845", None, None),
    103: (None, "99", None, "https://cdn.example/p2.jpg"),  # a photo without a caption
    104: ("A new video is coming tonight.", "3M", None, None),
}


def forum_page(path: str, page: int) -> str | None:
    if path == "/forum/viewforum.php":
        threads = [1, 2] if page == 1 else [3]
        links = "".join(f'<li><a class="topictitle" href="/forum/viewtopic.php?t={t}">{THREADS[t][0]}</a></li>'
                        for t in threads)
        more = '<a rel="next" href="/forum/viewforum.php?start=2">Next</a>' if page == 1 else ""
        return f"<html><body><ul>{links}</ul>{more}</body></html>"
    return None


def thread_page(topic: int, page: int) -> str:
    title, pages = THREADS[topic]
    posts = "".join(
        f'<div class="post" id="{pid}"><div class="author"><strong><a class="username">{author}</a></strong>'
        f'<time datetime="{when}">{when}</time></div><div class="content">{text}</div></div>'
        for pid, author, when, text in pages[page - 1])
    more = (f'<a rel="next" href="/forum/viewtopic.php?t={topic}&amp;page={page + 1}">Next</a>'
            if page < len(pages) else "")
    return (f"<html><head><title>{title} - Board</title></head><body><h2 class='topic-title'><a>{title}</a></h2>"
            f"{posts}{more}</body></html>")


def channel_page(before: int | None) -> str:
    ids = sorted(MESSAGES)[-2:] if before is None else [i for i in sorted(MESSAGES) if i < before][-2:]
    blocks = []
    for i in ids:
        text, views, forwarded, photo = MESSAGES[i]
        parts = [f'<div class="tgme_widget_message" data-post="vigilchan/{i}">',
                 '<div class="tgme_widget_message_owner_name"><span>Vigil Test Channel</span></div>']
        if forwarded:
            parts.append(f'<a class="tgme_widget_message_forwarded_from_name" href="https://t.me/{forwarded}">'
                         f'<span>{forwarded}</span></a>')
        if photo:
            parts.append(f"<a class=\"tgme_widget_message_photo_wrap\" style=\"background-image:url('{photo}')\"></a>")
        if text:
            parts.append(f'<div class="tgme_widget_message_text">{text}</div>')
        parts.append(f'<span class="tgme_widget_message_views">{views}</span>'
                     f'<a class="tgme_widget_message_date" href="https://t.me/vigilchan/{i}">'
                     f'<time datetime="2026-11-0{i - 100}T12:00:00+00:00">noon</time></a></div>')
        blocks.append("".join(parts))
    return f"<html><body>{''.join(blocks)}</body></html>"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = None
        if parts.path == "/forum/viewforum.php":
            body = forum_page(parts.path, 2 if "start" in query else 1)
        elif parts.path == "/forum/viewtopic.php" and int(query.get("t", 0)) in THREADS:
            body = thread_page(int(query["t"]), int(query.get("page", 1)))
        elif parts.path == "/s/vigilchan":
            body = channel_page(int(query["before"]) if "before" in query else None)
        data = (body or "not found").encode()
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8" if body else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        pass


class CommunitySite(LocalServer):
    def __init__(self):
        super().__init__(_Handler)

    def sources_yaml(self) -> str:
        common = {"allow_private_addresses": True, "delay_s": 0, "concurrency": 4}
        return yaml.safe_dump({"sources": [
            {"id": "board", "kind": "forum", "forum": "phpbb", "max_depth": 2,
             "start_urls": [f"{self.url}/forum/viewforum.php"], **common},
            {"id": "chan", "kind": "telegram", "max_depth": 3, "start_urls": [f"{self.url}/s/vigilchan"], **common},
        ]})
