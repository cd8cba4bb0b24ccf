"""Text signals for hash lists: an exact hash and a near-duplicate MinHash, over one normalisation.

Containment, by windows: a list holds a known passage (a few hundred characters: a statement, a pledge, a
recruiter's pitch) and the matcher must find it inside a much longer page, after edits. Jaccard between a
passage and a whole page is small however much of the passage the page copies, so neither side is hashed
whole. A banked passage is cut into chunks of WINDOW tokens (the last one overlapping the one before, so every
chunk has WINDOW tokens), one MinHash each; a page is read as overlapping windows of WINDOW tokens every STRIDE
tokens, one MinHash each, looked up in an LSH index of the chunks (streams/hashlists/index.py). Every chunk of
a copied passage then meets a page window offset by at most STRIDE / 2 tokens, so their Jaccard stays high,
and a page matches when any window is near a chunk: that is containment of a part of the passage in the page.
datasketch's LSH Ensemble answers containment directly, but it inserts every set into an LSH index per
partition and per band width (about 250 band keys per entry at 128 permutations): tens of kilobytes an entry,
gigabytes at a million. Equal-sized windows let one plain LSH, at one band width, do it (index.py).

Tokens are words, except in scripts written without spaces (Chinese, Japanese kana, Thai, Lao, Khmer,
Myanmar), where each character is a token. Shingles are SHINGLE consecutive tokens, so an edited word breaks
SHINGLE shingles and leaves the rest; punctuation is gone before tokenising, so re-punctuation changes nothing.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from datasketch import LeanMinHash, MinHash  # type: ignore[import-untyped]

NUM_PERM = 128
SEED = 1
SHINGLE = 3  # tokens per shingle
WINDOW = 32  # tokens per chunk and per page window: about 200 characters of English
STRIDE = 8  # a copied chunk meets a window at most 4 tokens out: Jaccard >= 26/34 before edits
MIN_TOKENS = 16  # a shorter passage gets only the exact hash: a few words match too much ordinary text
SIGNATURE_PREFIX = "mh1:"  # pins NUM_PERM, SEED, SHINGLE, WINDOW and the normalisation below

# A bare domain starts where no name character precedes it, and its labels are separated by single dots:
# linear on hostile runs such as "a.a.a.a..." (the looser [\w.-]+ backtracked quadratically, 6 s on 20k chars).
URL = re.compile(r"(?:https?://|www\.)\S+|(?<![\w.-])[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|io|me|ly|info|ru|tk)/\S*",
                 re.IGNORECASE)
HANDLE = re.compile(r"(?<!\w)@\w{1,30}")
URL_MASK, HANDLE_MASK = " xurlx ", " xuserx "
# Arabic harakat, Quranic annotation marks, superscript alef, and tatweel: optional in writing, so copies differ.
ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed\u0640]")
# The usual light Arabic normalisation (hamza-carrying alefs, alef maqsura, teh marbuta), spelled either way.
ARABIC_LETTERS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه"})
UNSPACED = ("\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
            "\U00020000-\U0002ffff")
TOKEN = re.compile(rf"[{UNSPACED}]|[^\s{UNSPACED}]+")


def _strip_category(ch: str) -> str:
    category = unicodedata.category(ch)
    if category[0] in "PSZ" or category == "Cc":
        return " "  # punctuation, symbols (emoji included), separators: a word boundary
    if category in ("Cf", "Co", "Cs", "Cn"):
        return ""  # zero-width joiners and the like sit inside words
    return ch


def normalise(text: str) -> str:
    """One form for every copy of a text, in any script: NFKC, casefolded, URLs and @handles masked,
    punctuation and symbols gone, Arabic marks and letter variants folded, whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = HANDLE.sub(HANDLE_MASK, URL.sub(URL_MASK, text))
    text = ARABIC_MARKS.sub("", text).translate(ARABIC_LETTERS)
    text = "".join(_strip_category(ch) if not ch.isalnum() else ch for ch in text)
    return " ".join(text.split())


def tokens(normalised: str) -> list[str]:
    return TOKEN.findall(normalised)


def exact_hash(text: str) -> str:
    """The text_exact signal: SHA-256 of the normalised text."""
    return sha256_of(normalise(text))


def sha256_of(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def _shingles(toks: list[str]) -> list[bytes]:
    if len(toks) <= SHINGLE:
        return [" ".join(toks).encode("utf-8")]
    return [" ".join(toks[i:i + SHINGLE]).encode("utf-8") for i in range(len(toks) - SHINGLE + 1)]


def minhash(toks: list[str]) -> LeanMinHash:
    mh = MinHash(num_perm=NUM_PERM, seed=SEED)
    mh.update_batch(_shingles(toks))
    return LeanMinHash(mh)


def _starts(n: int, step: int) -> list[int]:
    """Window starts over n tokens: every `step`, plus one flush with the end."""
    if n <= WINDOW:
        return [0]
    starts = list(range(0, n - WINDOW + 1, step))
    if starts[-1] != n - WINDOW:
        starts.append(n - WINDOW)
    return starts


def chunks(text: str) -> list[LeanMinHash]:
    """The MinHashes of a banked passage: one per WINDOW tokens. ValueError below MIN_TOKENS tokens."""
    toks = tokens(normalise(text))
    if len(toks) < MIN_TOKENS:
        raise ValueError(f"too short for text_minhash: {len(toks)} tokens, at least {MIN_TOKENS}")
    return [minhash(toks[s:s + WINDOW]) for s in _starts(len(toks), WINDOW)]


def signature(text: str) -> str:
    """The text_minhash signal of a passage, as a string for storage and export."""
    return serialise(chunks(text))


def serialise(parts: list[LeanMinHash]) -> str:
    """'mh1:' and each chunk's LeanMinHash.serialize (little-endian), base64url, comma-separated."""
    encoded = []
    for part in parts:
        buf = bytearray(part.bytesize(byteorder="<"))
        part.serialize(buf, byteorder="<")
        encoded.append(base64.urlsafe_b64encode(bytes(buf)).decode("ascii").rstrip("="))
    return SIGNATURE_PREFIX + ",".join(encoded)


def parse_signature(value: str) -> list[LeanMinHash]:
    """The chunks of a serialised signature; ValueError (a short reason) when it is not one of ours."""
    value = value.strip()
    if not value.startswith(SIGNATURE_PREFIX):
        raise ValueError(f"not a MinHash signature (expected the prefix {SIGNATURE_PREFIX!r})")
    body = value[len(SIGNATURE_PREFIX):]
    if not body:
        raise ValueError("MinHash signature has no chunks")
    parts = []
    for encoded in body.split(","):
        try:
            raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            part = LeanMinHash.deserialize(raw, byteorder="<")
        except (binascii.Error, ValueError, TypeError, OverflowError) as error:
            raise ValueError(f"MinHash signature chunk does not decode ({error})") from error
        except Exception as error:  # struct.error and friends: corrupt bytes of any kind
            raise ValueError(f"MinHash signature chunk does not decode ({type(error).__name__})") from error
        if len(part) != NUM_PERM or part.seed != SEED:
            raise ValueError(f"MinHash signature has {len(part)} permutations, seed {part.seed}; "
                             f"expected {NUM_PERM}, seed {SEED}")
        parts.append(part)
    return parts


@dataclass(frozen=True)
class Window:
    start: int  # token offset in the page
    text: str  # the window's normalised text, the evidence
    minhash: LeanMinHash


def windows(normalised: str) -> Iterator[Window]:
    """A page's windows for near-duplicate lookup, from its normalised text (none when it has fewer than
    MIN_TOKENS tokens)."""
    toks = tokens(normalised)
    if len(toks) < MIN_TOKENS:
        return
    shingles = _shingles(toks)
    # Each shingle is hashed once for the page, and each window takes the minimum over its rows: the same
    # values as MinHash.update_batch on the window's shingles, without hashing every shingle four times.
    proto = MinHash(num_perm=NUM_PERM, seed=SEED)
    per_shingle = _permuted(proto, shingles)
    per_window = WINDOW - SHINGLE + 1
    for start in _starts(len(toks), STRIDE):
        rows = per_shingle[start:start + per_window] if len(toks) > SHINGLE else per_shingle
        yield Window(start, " ".join(toks[start:start + WINDOW]),
                     LeanMinHash(seed=SEED, hashvalues=rows.min(axis=0), scheme=proto.scheme))


def _permuted(proto: MinHash, shingles: list[bytes]) -> np.ndarray:
    """The permuted hash values of each shingle (one row each), by MinHash.update_batch itself on one-row
    MinHashes, so the permutation scheme stays datasketch's."""
    rows = np.empty((len(shingles), NUM_PERM), dtype=proto.hashvalues.dtype)
    for i, shingle in enumerate(shingles):
        one = proto.copy()
        one.update(shingle)
        rows[i] = one.hashvalues
    return rows
