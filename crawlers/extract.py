"""From an HTML page to the fields of a raw document: main text, title, language, hashes."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import lxml.html
import numpy as np
import trafilatura
from w3lib.url import canonicalize_url as w3lib_canonicalize

from streams.schemas import text_sha256

TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|yclid|mc_cid|mc_eid|ref_src|igshid)$", re.IGNORECASE)
WORD = re.compile(r"\w+", re.UNICODE)


def canonical_url(url: str) -> str:
    """Lower-case host, no default port, no fragment, sorted query without tracking parameters."""
    parts = urlsplit(w3lib_canonicalize(url))
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not TRACKING_PARAMS.match(k)])
    return urlunsplit((parts.scheme.lower(), host, parts.path or "/", query, ""))


def simhash64(text: str) -> str:
    """64-bit simhash over words weighted by count (Charikar), hex; near-duplicate pages differ in few bits."""
    shingles = WORD.findall(text.lower()) or [""]
    hashes = np.array([int.from_bytes(hashlib.blake2b(s.encode(), digest_size=8).digest(), "big") for s in shingles],
                      dtype=np.uint64)
    bits = np.unpackbits(hashes.view(">u8").view(np.uint8).reshape(-1, 8), axis=1)  # rows of 64 bits, MSB first
    votes = bits.sum(axis=0, dtype=np.int64) * 2 - len(shingles)
    value = 0
    for bit in (votes > 0):
        value = (value << 1) | int(bit)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


@lru_cache(maxsize=1)
def _language_identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str, hint: str | None = None) -> tuple[str, float]:
    """ISO 639-1 code and probability, offline (py3langid); the hint wins when detection is unsure."""
    if len(text.strip()) < 20:
        return (hint or "und", 0.0)
    lang, probability = _language_identifier().classify(text[:2000])
    if probability < 0.5 and hint:
        return hint, float(probability)
    return lang, float(probability)


def pseudonymise(author: str, key: bytes) -> str:
    """Keyed HMAC: the same author maps to the same pseudonym within one deployment, and back to nobody."""
    digest = hmac.new(key, author.strip().casefold().encode("utf-8"), hashlib.sha256).hexdigest()
    return f"anon-{digest[:16]}"


@dataclass
class Extracted:
    title: str
    text: str
    author: str | None
    published_at: datetime | None


# List items that are nothing but a link: menus, "most read" boxes and the link lists of index pages. Their
# text is the title of another page, which is crawled and classified as itself.
LINK_ONLY_ITEMS = "//li[a][not(text()[normalize-space()])][not(*[not(self::a)])]"


def _without_link_lists(html: str):
    """The parsed page without its link-only list items (None when it does not parse): extraction then keeps
    what the page itself says, so an index page is not judged by the headlines it links to."""
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        return None
    for item in tree.xpath(LINK_ONLY_ITEMS):
        item.drop_tree()
    return tree


def extract(html: str, url: str, max_chars: int) -> Extracted:
    """Main text without navigation and footers (trafilatura), falling back to all visible text."""
    tree = _without_link_lists(html)
    doc = trafilatura.bare_extraction(
        tree if tree is not None else html, url=url, with_metadata=True, include_comments=False, include_tables=True,
        fast=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    title, text, author, published = "", "", None, None
    if doc is not None:
        title, text, author = doc.title or "", doc.text or "", doc.author or None
        if doc.date:
            try:
                published = datetime.fromisoformat(doc.date).replace(tzinfo=timezone.utc)
            except ValueError:
                published = None
    if not text.strip() or not title:  # trafilatura works on a copy: the tree is still whole
        if tree is not None:
            title = title or " ".join(tree.xpath("string(//title)").split())
            if not text.strip():
                for bad in tree.xpath("//script|//style|//nav|//footer|//header|//noscript"):
                    bad.drop_tree()
                text = "\n".join(" ".join(t.split()) for t in tree.xpath("//body//text()") if t.strip())
    return Extracted(title=title.strip()[:1000], text=text.strip()[:max_chars], author=author, published_at=published)


@dataclass
class Analysis:
    """What a page's text yields: the extraction, its language, hash and simhash."""
    extracted: Extracted
    lang: str
    lang_confidence: float
    text_sha256: str
    simhash: str


def analyse(extracted: Extracted, language_hint: str | None) -> Analysis:
    lang, confidence = detect_language(extracted.text, language_hint)
    return Analysis(extracted, lang, confidence, text_sha256(extracted.text),
                    simhash64(extracted.text) if extracted.text else "0" * 16)


def extract_and_analyse(html: str, url: str, max_chars: int, language_hint: str | None) -> Analysis:
    """All of a page's CPU work in one call (the crawler runs it in a worker process)."""
    return analyse(extract(html, url, max_chars), language_hint)
