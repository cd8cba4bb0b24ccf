"""Hash an image a page shows: PDQ (threatexchange's hasher, pdqhash underneath) and its bytes' MD5 and SHA-256.

Pillow's decompression-bomb limit (Image.MAX_IMAGE_PIXELS) is global to the process, and so is the warnings
filter that would turn its warning into an error: neither is touched here. The pixel count is read from the
header (Image.open decodes nothing yet) and checked against `max_pixels` before any pixel is decoded, with
`max_pixels` never above Pillow's own limit, so Pillow's check still holds for every caller.

PDQ is robust to resizing and re-encoding but not to framing: a 5% border moves a poster's hash by about 90
bits, a 5% crop by 30-50. So a uniform border (any colour: memes and reposts add white ones) is trimmed before
hashing, and `pdq_variants` gives the hashes of centre crops too, to bank alongside the image's own hash.
A crop off one side or corner only is still missed by PDQ at the threshold (26-60 bits on the test posters).
threatexchange's unletterboxing finds black borders only, a pixel at a time in Python (seconds an image).
"""
from __future__ import annotations

import hashlib
import io

import numpy as np
from PIL import Image, UnidentifiedImageError
from threatexchange.signal_type.pdq import pdq_hasher
from threatexchange.signal_type.pdq.signal import PdqSignal

from streams.schemas import ImageRef

ACCEPTED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "MPO")  # what pages show as pictures
# Huge dimensions from a small file: a photo or poster carries at least a byte per few hundred pixels even as
# a JPEG; a bomb carries one per millions.
BOMB_PIXELS_PER_BYTE = 1000
BORDER_TOLERANCE = 24  # per channel: JPEG ringing next to a flat border reaches about 20
CROP_VARIANTS = {"c95": 0.95, "c90": 0.90}  # centre crops (of each side) banked with an image
# PDQ reduces to 64x64 anyway; reducing a large image first (Pillow's reducing_gap) changes the hash by a few
# bits at most and the time from seconds to milliseconds.
PDQ_MAX_SIDE = 1024


class ImageSkipped(ValueError):
    """The bytes are not hashed; `reason` is short and fixed, for a metrics label."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def hash_image(data: bytes, url: str, *, max_pixels: int = 50_000_000) -> ImageRef:
    """The image's hashes, or ImageSkipped("not an image" | "unsupported format" | "too many pixels" |
    "decompression bomb" | "truncated")."""
    rgb, width, height = _decode(data, max_pixels)
    pdq, quality = _pdq(trim_border(rgb))
    return ImageRef(url=url, sha256=hashlib.sha256(data).hexdigest(), md5=hashlib.md5(data).hexdigest(),
                    pdq=pdq if quality >= PdqSignal.QUALITY_THRESHOLD else None, pdq_quality=int(quality),
                    width=width, height=height)


def pdq_variants(data: bytes, *, max_pixels: int = 50_000_000) -> dict[str, str]:
    """PDQ hashes to bank for one image: its own ("") and its centre crops (CROP_VARIANTS), so that a cropped
    repost is still within the threshold. Variants too flat to hash are left out."""
    rgb = trim_border(_decode(data, max_pixels)[0])
    w, h = rgb.size
    out = {}
    for name, keep in {"": 1.0, **CROP_VARIANTS}.items():
        dx, dy = round(w * (1 - keep) / 2), round(h * (1 - keep) / 2)
        pdq, quality = _pdq(rgb.crop((dx, dy, w - dx, h - dy)) if keep < 1 else rgb)
        if quality >= PdqSignal.QUALITY_THRESHOLD:
            out[name] = pdq
    return out


def trim_border(rgb: Image.Image) -> Image.Image:
    """The image without rows and columns (from each edge) that are all the corner's colour."""
    array = np.asarray(rgb, dtype=np.int16)
    corner = array[0, 0]
    flat = (np.abs(array - corner) <= BORDER_TOLERANCE).all(axis=2)
    rows, cols = flat.all(axis=1), flat.all(axis=0)
    if not (rows[0] or rows[-1] or cols[0] or cols[-1]):
        return rgb
    keep_rows, keep_cols = np.flatnonzero(~rows), np.flatnonzero(~cols)
    if len(keep_rows) < 8 or len(keep_cols) < 8:
        return rgb  # all border: a flat image, left to PDQ's quality score
    return rgb.crop((int(keep_cols[0]), int(keep_rows[0]), int(keep_cols[-1]) + 1, int(keep_rows[-1]) + 1))


def _pdq(rgb: Image.Image) -> tuple[str, int]:
    # threatexchange's own array-to-hash step (pdq_from_bytes would re-open the bytes without our checks)
    pdq, quality = pdq_hasher._pdq_from_numpy_array(np.asarray(rgb))
    return pdq, int(quality)


def _decode(data: bytes, max_pixels: int) -> tuple[Image.Image, int, int]:
    """The first frame in RGB (reduced to PDQ_MAX_SIDE), and the image's own width and height."""
    limit = max_pixels if Image.MAX_IMAGE_PIXELS is None else min(max_pixels, Image.MAX_IMAGE_PIXELS)
    try:
        image = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as error:  # Pillow refuses twice its own limit on opening
        raise ImageSkipped("decompression bomb", str(error)) from error
    except Image.DecompressionBombWarning as error:  # an application that turned the warning into an error
        raise ImageSkipped("decompression bomb", str(error)) from error
    except UnidentifiedImageError as error:
        raise ImageSkipped("not an image") from error
    except (OSError, SyntaxError, ValueError) as error:  # a plugin choking on a damaged header
        raise ImageSkipped("not an image", type(error).__name__) from error
    with image:
        if image.format not in ACCEPTED_FORMATS:
            raise ImageSkipped("unsupported format", str(image.format))
        width, height = image.size
        if width < 1 or height < 1:
            raise ImageSkipped("not an image", "no pixels")
        pixels = width * height
        if pixels > limit:
            reason = "decompression bomb" if pixels > BOMB_PIXELS_PER_BYTE * len(data) else "too many pixels"
            raise ImageSkipped(reason, f"{width}x{height}")
        try:
            image.seek(0)  # the first frame of an animation
            if max(width, height) > PDQ_MAX_SIDE:
                image.draft("RGB", (PDQ_MAX_SIDE, PDQ_MAX_SIDE))  # JPEG decodes at a reduced scale
            rgb = image.convert("RGB")
        except Image.DecompressionBombError as error:
            raise ImageSkipped("decompression bomb", str(error)) from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise ImageSkipped("truncated", type(error).__name__) from error
    if max(rgb.size) > PDQ_MAX_SIDE:
        rgb.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return rgb, width, height
