"""The entries Vigil computes itself to bank a passage, an image or a reviewed document."""
from __future__ import annotations

from collections.abc import Iterable

from streams.hashlists import text as textsig
from streams.hashlists.banks import Entry
from streams.hashlists.formats import entry_id
from streams.schemas import ImageRef


def _entry(signal_type: str, value: str, **fields) -> Entry:
    return Entry(id=entry_id(signal_type, value), signal_type=signal_type, value=value, **fields)


def text_entries(text: str, **fields) -> list[Entry]:
    """A passage's exact hash (normalised text) and, when it is long enough, its MinHash signature, which
    also finds edited copies and the passage quoted inside a longer page. ValueError: nothing to bank."""
    if not textsig.normalise(text):
        raise ValueError("the text is empty once normalised (only punctuation, links or handles)")
    entries = [_entry("text_exact", textsig.exact_hash(text), **fields)]
    try:
        entries.append(_entry("text_minhash", textsig.signature(text), **fields))
    except ValueError:  # too short for near-copies: the exact hash alone
        pass
    return entries


def image_entries(image: ImageRef, variants: Iterable[str] = (), **fields) -> list[Entry]:
    """PDQ (survives resizing, re-encoding and borders), the PDQ of centre crops when the bytes are at hand
    (images.pdq_variants: a cropped repost), and MD5 (exact copies; what GIFCT shares)."""
    hashes = dict.fromkeys([image.pdq, *variants] if image.pdq else variants)
    return [_entry("pdq", pdq, **fields) for pdq in hashes] + [_entry("md5", image.md5, **fields)]
