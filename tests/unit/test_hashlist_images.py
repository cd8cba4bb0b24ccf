"""Image hashing: a poster matches after resizing, JPEG re-encoding, a small crop and a border; another poster
does not; bombs, non-images and refused formats raise ImageSkipped with a countable reason."""
from __future__ import annotations

import io
import random
import struct
import zlib

import pytest
from PIL import Image, ImageDraw, ImageFont

from streams.hashlists.banks import Entry, HashList
from streams.hashlists.images import ImageSkipped, hash_image, pdq_variants, trim_border
from streams.hashlists.index import PDQ_THRESHOLD, HashIndex

LIST = HashList(name="posters", source="tests", terms="test data", default_label="propaganda")


def poster(seed: int, size: tuple[int, int] = (600, 840)) -> Image.Image:
    """A poster-like picture: a diagonal gradient ground, shapes, a banner and lines of text."""
    rng = random.Random(seed)
    w, h = size
    image = Image.new("RGB", size)
    top, bottom = [rng.randrange(256) for _ in range(3)], [rng.randrange(256) for _ in range(3)]
    draw = ImageDraw.Draw(image)
    for d in range(w + h):  # a diagonal gradient: no row or column of the picture is one colour
        draw.line([(d, 0), (d - h, h)], fill=tuple(int(a + (b - a) * d / (w + h)) for a, b in zip(top, bottom)))
    for _ in range(12):
        x0, y0 = rng.randrange(w), rng.randrange(h)
        x1, y1 = x0 + rng.randrange(40, w // 2), y0 + rng.randrange(40, h // 3)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice([draw.rectangle, draw.ellipse])
        shape([x0, y0, x1, y1], fill=colour)
    draw.polygon([(rng.randrange(w), rng.randrange(h)) for _ in range(5)], fill=(rng.randrange(256), 0, 0))
    draw.rectangle([0, int(h * 0.72), w, int(h * 0.86)], fill=(0, 0, 0))
    font = ImageFont.load_default(size=42)
    for i, line in enumerate(["JOIN THE CARAVAN", f"VANGUARD {seed}", "THE HOUR HAS COME"]):
        draw.text((30, int(h * 0.05) + i * 60 if i != 1 else int(h * 0.74)), line, font=font,
                  fill=(255, 255, 255) if i == 1 else (20, 20, 20))
    return image


def encode(image: Image.Image, fmt: str = "PNG", **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def variants(image: Image.Image) -> dict[str, bytes]:
    w, h = image.size
    dx, dy = int(w * 0.05), int(h * 0.05)
    bordered = Image.new("RGB", (w + 2 * dx, h + 2 * dy), (255, 255, 255))
    bordered.paste(image, (dx, dy))
    return {
        "resized": encode(image.resize((w // 2, h // 2), Image.Resampling.LANCZOS)),
        "jpeg": encode(image, "JPEG", quality=55),
        "crop": encode(image.crop((dx // 2, dy // 2, w - dx // 2, h - dy // 2)), "JPEG", quality=85),  # 5% a side
        "border": encode(bordered, "JPEG", quality=85),
    }


@pytest.fixture(scope="module")
def banked():
    data = encode(poster(7))
    ref = hash_image(data, "https://example.org/poster.png")
    assert ref.pdq is not None and ref.pdq_quality is not None and ref.pdq_quality >= 50
    variants = pdq_variants(data)
    assert variants[""] == ref.pdq and set(variants) == {"", "c95", "c90"}
    entries = [(LIST, Entry(id=f"pdq-7{'~' + name if name else ''}", signal_type="pdq", value=pdq))
               for name, pdq in variants.items()]
    entries += [
               (LIST, Entry(id="md5-7", signal_type="md5", value=ref.md5, label="recruitment")),
               (LIST, Entry(id="sha-7", signal_type="sha256", value=ref.sha256))]
    return ref, HashIndex(entries)


def test_hash_image_fields():
    data = encode(poster(3), "JPEG")
    ref = hash_image(data, "https://example.org/a.jpg")
    assert (ref.width, ref.height) == (600, 840) and ref.url == "https://example.org/a.jpg"
    assert len(ref.md5) == 32 and len(ref.sha256) == 64 and len(ref.pdq or "") == 64
    flat = hash_image(encode(Image.new("RGB", (300, 300), (90, 90, 90))), "https://example.org/flat.png")
    assert flat.pdq is None and flat.pdq_quality is not None and flat.pdq_quality < 50


def test_identical_bytes_match_every_signal(banked):
    ref, index = banked
    matches = {m.signal_type: m for m in index.match_images([ref]) if m.distance == 0}
    assert set(matches) == {"pdq", "md5", "sha256"}
    assert "pdq-7" in {m.entry for m in index.match_images([ref]) if m.distance == 0}
    assert matches["md5"].label == "recruitment" and matches["sha256"].label == "propaganda"
    assert matches["pdq"].distance == 0 and matches["pdq"].evidence == ref.url


@pytest.mark.parametrize("variant", ["resized", "jpeg", "crop", "border"])
def test_altered_copies_match_by_pdq(banked, variant):
    ref, index = banked
    copy = hash_image(variants(poster(7))[variant], f"https://mirror.example/{variant}.jpg")
    matches = index.match_images([copy])
    assert matches and {m.signal_type for m in matches} == {"pdq"}
    assert {m.entry.partition("~")[0] for m in matches} == {"pdq-7"}
    assert all(m.distance <= PDQ_THRESHOLD and m.evidence.endswith(f"{variant}.jpg") for m in matches)


def test_unrelated_poster_does_not_match(banked):
    _, index = banked
    for seed in (8, 9, 10):
        assert index.match_images([hash_image(encode(poster(seed)), f"https://example.org/{seed}.png")]) == []


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims huge dimensions: a few dozen bytes on disk (a decompression bomb's header)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + \
        chunk(b"IEND", b"")


@pytest.mark.parametrize("width,height", [(100_000, 100_000), (9_000, 9_000)])
def test_decompression_bomb_is_skipped(width, height):
    limit = Image.MAX_IMAGE_PIXELS
    with pytest.raises(ImageSkipped) as raised:
        hash_image(png_header(width, height), "https://example.org/bomb.png")
    assert raised.value.reason == "decompression bomb"
    assert Image.MAX_IMAGE_PIXELS == limit  # Pillow's global limit is left as it was


def test_too_many_pixels_for_the_callers_limit():
    with pytest.raises(ImageSkipped) as raised:
        hash_image(encode(poster(1), "JPEG"), "https://example.org/big.jpg", max_pixels=100_000)
    assert raised.value.reason == "too many pixels"


@pytest.mark.parametrize("data,reason", [
    (b"<html><body>not an image</body></html>", "not an image"),
    (b"", "not an image"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "not an image"),
])
def test_non_images_are_skipped(data, reason):
    with pytest.raises(ImageSkipped) as raised:
        hash_image(data, "https://example.org/x")
    assert raised.value.reason == reason and isinstance(raised.value, ValueError)


def test_refused_format_and_truncated_file():
    with pytest.raises(ImageSkipped) as raised:
        hash_image(encode(poster(2).resize((60, 80)), "PPM"), "https://example.org/x.ppm")
    assert raised.value.reason == "unsupported format"
    jpeg = encode(poster(2), "JPEG")
    with pytest.raises(ImageSkipped) as raised:
        hash_image(jpeg[: len(jpeg) // 3], "https://example.org/cut.jpg")
    assert raised.value.reason == "truncated"


def test_trim_border_removes_a_uniform_frame_only():
    image = poster(4)
    framed = Image.new("RGB", (700, 940), (250, 250, 250))
    framed.paste(image, (50, 50))
    assert trim_border(framed).size == image.size
    assert trim_border(image).size == image.size
