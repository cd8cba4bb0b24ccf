"""A local web server with the pages a crawler meets in the wild, hostile ones included."""
from __future__ import annotations

import gzip
import io
import random
from functools import cache, partial
from http.server import BaseHTTPRequestHandler

import yaml
from PIL import Image, ImageDraw

from tests.local_server import LocalServer

ARTICLE = "<p>{}</p>" * 3


def page(title: str, text: str, charset: str = "utf-8", meta_charset: bool = True) -> str:
    meta = f'<meta charset="{charset}">' if meta_charset else ""
    return (f"<html><head>{meta}<title>{title}</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>{title}</h1>{ARTICLE.format(text, text, text)}</article><footer>Footer text</footer>"
            "</body></html>")


RUSSIAN = "Полиция сообщила, что трое человек пострадали при нападении на рынке во вторник."
ARABIC = "قالت الشرطة إن ثلاثة أشخاص أصيبوا في هجوم على السوق يوم الثلاثاء."
CHINESE = "警方表示，星期二市场遭到袭击，三人受伤。调查人员正在调查嫌疑人的背景。"


def poster(seed: int, fmt: str, size: tuple[int, int] = (320, 240)) -> bytes:
    """A picture with enough structure for PDQ to hash with full quality: coloured shapes on a gradient."""
    rng = random.Random(seed)
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle((x, y, x + rng.randrange(20, 120), y + rng.randrange(20, 90)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


IMAGE_BYTE_LIMIT = 1024 * 1024  # the image tests' crawler.max_image_bytes; /images/huge.png is three times that
GALLERY_IMAGES = [  # what /images/gallery.html shows, in its order (all but the first three are refused or skipped)
    "/images/poster.png", "/images/poster.jpg", "/images/flag.gif", "/images/to-metadata.png", "/images/bomb.png",
    "/images/huge.png", "/images/fake.jpg", "/images/blob.jpg", "/private/banner.png", "/images/broken.png",
    "http://cdn.example/logo.png"]
MANY_IMAGES = 15


@cache
def image_routes() -> dict:
    """The images pages show, good and hostile: real pictures, a redirect to the cloud metadata address, a
    decompression bomb (64 megapixels in 8 KB), one over the byte limit, pages and octet streams served for
    images, one robots.txt disallows, bytes that are no image."""
    png, jpeg = {"Content-Type": "image/png"}, {"Content-Type": "image/jpeg"}
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, "PNG", optimize=True)
    gallery = ('<html><head><title>Gallery</title><meta property="og:image" content="/images/flag.gif"></head>'
               "<body><article><h1>Gallery</h1><p>Posters and flags of the movement, shown in this article.</p>"
               "<p>Police said the images were seized from the group's media office in the raid.</p>"
               '<img src="/images/poster.png">'
               '<img src="/images/small.jpg" srcset="/images/small.jpg 320w, /images/poster.jpg 1024w">'
               + "".join(f'<img src="{url}">' for url in GALLERY_IMAGES[3:])
               + '<img src="data:image/png;base64,iVBORw0KGgo="></article></body></html>')
    many = ("<html><head><title>Many images</title></head><body><article><h1>Many images</h1>"
            "<p>A page that shows more images than one page may have fetched, and says so at length.</p>"
            + "".join(f'<img src="/images/n{n}.png">' for n in range(MANY_IMAGES)) + "</article></body></html>")
    evidence = ("<html><head><title>Evidence</title></head><body><article><h1>Evidence</h1>"
                "<p>A page of a source that keeps the images it shows in the evidence archive.</p>"
                '<img src="/images/evidence.png"></article></body></html>')
    html = {"Content-Type": "text/html; charset=utf-8"}
    return {
        "/images/gallery.html": (200, html, gallery.encode()),
        "/images/many.html": (200, html, many.encode()),
        "/images/evidence.html": (200, html, evidence.encode()),
        "/images/poster.png": (200, png, poster(1, "PNG")),
        "/images/poster.jpg": (200, jpeg, poster(2, "JPEG")),
        "/images/flag.gif": (200, {"Content-Type": "image/gif"}, poster(3, "GIF")),
        "/images/evidence.png": (200, png, poster(4, "PNG")),
        "/images/to-metadata.png": (302, {"Location": "http://169.254.169.254/latest/meta-data/logo.png"}, b""),
        "/images/bomb.png": (200, png, bomb.getvalue()),
        "/images/huge.png": (200, png, poster(5, "PNG") + b"\x00" * (3 * IMAGE_BYTE_LIMIT)),
        "/images/fake.jpg": (200, html, page("Not an image", "A page served where an image was shown.").encode()),
        "/images/blob.jpg": (200, {"Content-Type": "application/octet-stream"}, poster(6, "JPEG")),
        "/private/banner.png": (200, png, poster(7, "PNG")),
        "/images/broken.png": (200, png, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
        **{f"/images/n{n}.png": (200, png, poster(100 + n, "PNG", (64, 64))) for n in range(MANY_IMAGES)},
    }


def routes(big_bytes: int) -> dict:
    """path -> (status, headers, body); a body of None is streamed (the huge response)."""
    bomb = gzip.compress(b"A" * (64 * 1024 * 1024), compresslevel=9)
    index_links = ["/ok.html", "/cp1251.html", "/win1256.html", "/gb18030.html", "/utf16.html", "/broken.html",
                   "/to-metadata", "/loop-a", "/binary.html", "/huge.html", "/bomb.html", "/download",
                   "/private/secret.html"]
    index = "<html><body>" + "".join(f'<a href="{link}">{link}</a> ' for link in index_links) + "</body></html>"
    html = {"Content-Type": "text/html"}
    return {
        "/": (200, {"Content-Type": "text/html; charset=utf-8"}, index.encode()),
        "/robots.txt": (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"),
        "/ok.html": (200, {"Content-Type": "text/html; charset=utf-8"},
                     page("Plain page", "Police said three people were injured in the market attack.").encode()),
        "/cp1251.html": (200, {"Content-Type": "text/html; charset=windows-1251"},
                         page("Новости", RUSSIAN, "windows-1251").encode("cp1251")),
        "/win1256.html": (200, html, page("أخبار", ARABIC, "windows-1256").encode("cp1256")),
        "/gb18030.html": (200, {"Content-Type": "text/html; charset=gb18030"},
                          page("新闻", CHINESE, "gb18030").encode("gb18030")),
        "/utf16.html": (200, html, page("UTF-16 page", "This page is encoded as UTF-16 with a byte order mark.",
                                        meta_charset=False).encode("utf-16")),
        "/broken.html": (200, html, b"<html><body><div><p>Unclosed tags and a stray </td> survive "
                                    b"<b><i>because parsers are forgiving about broken markup in pages.<p>More text"),
        "/to-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
        "/loop-a": (302, {"Location": "/loop-b"}, b""),
        "/loop-b": (302, {"Location": "/loop-a"}, b""),
        "/binary.html": (200, html, bytes(range(256)) * 64),
        "/huge.html": (200, html, None),
        "/bomb.html": (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, bomb),
        "/download": (200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100),
        "/private/secret.html": (200, html, page("Secret", "Robots.txt disallows this page.").encode()),
        "big": big_bytes,
        **image_routes(),
    }


class _Handler(BaseHTTPRequestHandler):
    def __init__(self, table: dict, hits: dict, *args, **kwargs):
        self.table, self.hits = table, hits
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802
        path = self.path.split("?")[0]
        self.hits[path] = self.hits.get(path, 0) + 1
        status, headers, body = self.table.get(path, (404, {"Content-Type": "text/plain"}, b"not found"))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        size = self.table["big"] if body is None else len(body)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            if body is None:  # stream the huge response in chunks; the client should hang up early
                chunk = b"<p>" + b"x" * 65530 + b"</p>"
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format, *args):
        pass


class FixtureSite(LocalServer):
    def __init__(self, big_bytes: int = 200 * 1024 * 1024):
        self.hits: dict[str, int] = {}
        super().__init__(partial(_Handler, routes(big_bytes), self.hits))

    def sources_yaml(self, **extra) -> str:
        return yaml.safe_dump({"sources": [{"id": "fixture", "start_urls": [self.url + "/"], "max_depth": 1,
                                            "allow_private_addresses": True, **extra}]})
