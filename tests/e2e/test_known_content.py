"""Known content end to end, on both backends: `vigil hashlist add-text` and `add-image` bank a passage and
a poster, then one crawl of a local site flags the pages carrying near-copies of them, with `matches`
naming the list, and leaves the news about the same events alone."""
from __future__ import annotations

import io
from http.server import BaseHTTPRequestHandler

import pytest
import yaml
from PIL import Image, ImageDraw

from streams.stores import SearchQuery, open_store
from tests.local_server import LocalServer
from vigil.cli import main
from vigil.demo.run import LOCAL_SITE_SPEED
from vigil.pipeline import run_once

pytestmark = pytest.mark.e2e

# A claim of responsibility as a fictional group's media office would word it (Russian, written natively).
CLAIM = ("По милости Всевышнего братья из «Чёрного знамени» нанесли удар по колонне неверных у северного моста. "
         "Двенадцать врагов уничтожены, а наши герои вернулись на свои позиции невредимыми. Мы обещаем "
         "тиранам, что это только начало: каждый, кто воюет против веры, почувствует силу наших мечей. "
         "Братья, вставайте в наши ряды, путь открыт, и караван ждёт тех, кто откликнется на призыв.")
QUOTING_POST = ("Смотрите, что они опять распространяют в своих каналах: «" +
                CLAIM.replace("Двенадцать", "Десять").replace(":", ",") +
                "» Кто-нибудь знает, откуда это? Модераторы, удалите, пожалуйста.")
NEWS = ("Власти сообщили, что у северного моста была обстреляна военная колонна. По данным министерства, "
        "погибли несколько человек. Ответственность за нападение взяла на себя группировка «Чёрное знамя», "
        "которая признана террористической. Следствие продолжается, на месте работают эксперты.")


def poster(size=(640, 480)) -> Image.Image:
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, size[0], size[1] // 3), fill=(10, 10, 10))
    draw.ellipse((size[0] // 3, size[1] // 3, 2 * size[0] // 3, 5 * size[1] // 6), fill=(180, 20, 20))
    for n in range(8):
        draw.line((0, n * 60, size[0], size[1] - n * 40), fill=(30, 90, 30), width=6)
    draw.text((20, 20), "BLACK BANNER", fill="white")
    return image


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def page(title: str, body: str) -> bytes:
    return (f"<!doctype html><html lang=ru><head><meta charset=utf-8><title>{title}</title></head><body>"
            f"<article><h1>{title}</h1>{body}</article></body></html>").encode("utf-8")


# What the site serves: a re-encoded, smaller copy of the banked poster, not the banked file itself.
PAGES = {
    "/": page("Форум", '<ul><li><a href="/forum/t1.html">Тема 1</a></li><li><a href="/news/bridge.html">Новости'
                       '</a></li><li><a href="/gallery.html">Галерея</a></li></ul>'),
    "/forum/t1.html": page("Что это за текст?", f"<p>{QUOTING_POST}</p>"),
    "/news/bridge.html": page("Обстрел колонны у моста", f"<p>{NEWS}</p>"),
    "/gallery.html": page("Галерея", "<p>Новое изображение из канала, пересланное без комментариев. Кто-то "
                                     "сохранил его до удаления.</p><img src=\"/media/poster.jpg\" alt=\"\">"),
}
MEDIA = {"/media/poster.jpg": encoded(poster().resize((480, 360)), "JPEG", quality=70)}


class Site(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path in PAGES:
            self._send(PAGES[self.path], "text/html; charset=utf-8")
        elif self.path in MEDIA:
            self._send(MEDIA[self.path], "image/jpeg")
        elif self.path == "/robots.txt":
            self._send(b"User-agent: *\nAllow: /\n", "text/plain")
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_pages_with_banked_text_and_images_are_flagged_with_their_matches(pipeline_settings, tmp_path,
                                                                           monkeypatch, capsys):
    config = tmp_path / "vigil.yaml"
    config.write_text(yaml.safe_dump(pipeline_settings.model_dump(mode="json", exclude_none=True)))
    monkeypatch.setenv("VIGIL_CONFIG", str(config))
    claim, banked_poster = tmp_path / "claim.txt", tmp_path / "poster.png"
    claim.write_text(CLAIM, encoding="utf-8")
    banked_poster.write_bytes(encoded(poster(), "PNG"))
    code = main(["hashlist", "create", "confirmed", "--source", "tests", "--terms", "test data only",
                 "--default-label", "propaganda"])
    if pipeline_settings.elasticsearch.url:  # no indices before `vigil setup`: the command says to run it
        assert code == 2 and "run `vigil setup`" in capsys.readouterr().err
        assert main(["setup"]) == 0
        code = main(["hashlist", "create", "confirmed", "--source", "tests", "--terms", "test data only",
                     "--default-label", "propaganda"])
    assert code == 0
    assert main(["hashlist", "add-text", "confirmed", "--file", str(claim), "--label", "recruitment"]) == 0
    assert main(["hashlist", "add-image", "confirmed", "--file", str(banked_poster)]) == 0
    capsys.readouterr()

    with LocalServer(Site) as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(yaml.safe_dump({"sources": [{
            "id": "forum", "kind": "site", "start_urls": [site.url + "/"], "max_depth": 1,
            "schedule": "*/30 * * * *", "allow_private_addresses": True}]}))
        summary = run_once(pipeline_settings, sources, scrapy_overrides=LOCAL_SITE_SPEED, progress=lambda _: None)
    assert summary.indexed == len(PAGES) and summary.dead_lettered == 0

    with open_store(pipeline_settings) as store:
        hits = {hit.url[len(site.url):]: hit for hit in store.search(SearchQuery(limit=20)).hits}
    quoting, news, gallery = hits["/forum/t1.html"], hits["/news/bridge.html"], hits["/gallery.html"]
    assert quoting.flagged and "recruitment" in quoting.labels
    assert [(m["list"], m["signal_type"], m["label"]) for m in quoting.matches] == \
        [("confirmed", "text_minhash", "recruitment")]
    assert not news.matches and not hits["/"].matches
    assert gallery.flagged and {m["signal_type"] for m in gallery.matches} == {"pdq"}  # not the same bytes
    assert all(m["list"] == "confirmed" and m["evidence"].endswith("/media/poster.jpg") for m in gallery.matches)
