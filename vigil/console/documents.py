"""What the document page shows besides the store's fields: the text cut into segments with the evidence
sentences marked, the scores against thresholds, other versions of the same page, and the archived capture."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from crawlers.evidence import EvidenceArchive
from streams.config import VigilSettings
from streams.stores import Hit, SearchQuery, Store

CAPTURE_SHOWN_BYTES = 500_000


@dataclass
class Segment:
    text: str
    labels: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)

    @property
    def title(self) -> str:
        return ", ".join(f"{label} {score:.2f}" for label, score in zip(self.labels, self.scores))


def evidence_spans(text: str, evidence: list[dict]) -> list[tuple[int, int, str, float]]:
    """(start, end, label, score) for each evidence sentence, its offsets checked against the text (an
    evidence whose offsets do not point at its sentence is found by its words, or left unmarked)."""
    spans = []
    for item in evidence:
        start, end, sentence = item.get("start"), item.get("end"), item.get("text") or ""
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
                and (not sentence or text[start:end] == sentence)):
            found = text.find(sentence) if sentence else -1
            if found < 0:
                continue
            start, end = found, found + len(sentence)
        spans.append((start, end, str(item.get("label", "")), float(item.get("score") or 0.0)))
    return spans


def segments(text: str, evidence: list[dict]) -> list[Segment]:
    """The text cut at every evidence boundary; each piece knows which labels' evidence covers it."""
    spans = evidence_spans(text, evidence)
    cuts = sorted({0, len(text), *(s for s, _, _, _ in spans), *(e for _, e, _, _ in spans)})
    pieces = []
    for start, end in zip(cuts, cuts[1:]):
        covering = [(label, score) for s, e, label, score in spans if s <= start and end <= e]
        pieces.append(Segment(text[start:end], [label for label, _ in covering], [score for _, score in covering]))
    return pieces


@dataclass
class ScoreRow:
    label: str
    score: float
    threshold: float | None
    over: bool
    shadow: float | None


def score_rows(doc: dict) -> list[ScoreRow]:
    thresholds = doc.get("thresholds") or {}
    shadow = (doc.get("shadow") or {}).get("scores") or {}
    labels = set(doc.get("labels") or ())
    return [ScoreRow(label, score, thresholds.get(label), label in labels, shadow.get(label))
            for label, score in sorted((doc.get("scores") or {}).items(), key=lambda kv: -kv[1])]


def other_versions(store: Store, doc: dict, limit: int = 100) -> list[Hit]:
    """Other documents of the same page (its URL or canonical URL, other text) and the near-duplicate it was
    published against, newest first."""
    urls = tuple({doc["url"], doc.get("canonical_url") or doc["url"]})
    found = {hit.id: hit for hit in store.search(SearchQuery(urls=urls, limit=limit)).hits}
    near = doc.get("near_duplicate_of")
    if near and near not in found and (hit := store.get(near)) is not None:
        found[near] = Hit.of(hit, (hit.get("review") or {}).get("status", "unreviewed"))
    found.pop(doc["id"], None)
    return sorted(found.values(), key=lambda hit: hit.fetched_at, reverse=True)


def thread_posts(store: Store, doc: dict, limit: int = 100) -> list[Hit]:
    """The other posts of the thread or channel a post belongs to, oldest first (none for a page)."""
    thread = (doc.get("post") or {}).get("thread_url")
    if not thread:
        return []
    hits = store.search(SearchQuery(thread_url=thread, limit=limit)).hits
    return sorted((hit for hit in hits if hit.id != doc["id"]), key=lambda hit: hit.fetched_at)


def archive_of(settings: VigilSettings) -> EvidenceArchive:
    return EvidenceArchive(settings.crawler.archive_dir or settings.data_dir / "evidence")


@dataclass
class CaptureView:
    digest: str
    status: str  # intact, missing or altered
    detail: str = ""
    url: str = ""
    captured_at: str = ""
    http_status: int | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload_text: str = ""
    payload_bytes: int = 0
    payload_sha256: str = ""


def read_capture(settings: VigilSettings, digest: str) -> CaptureView:
    """The archived response, after its SHA-256 is checked (EvidenceArchive.read checks it every time)."""
    archive = archive_of(settings)
    try:
        record = archive.read(digest)
    except KeyError as exc:
        return CaptureView(digest, "missing", str(exc).strip("'\""))
    except ValueError as exc:
        return CaptureView(digest, "altered", str(exc))
    payload: bytes = record["payload"]
    # Shown as text, never rendered: the capture is the crawled page's own HTML.
    return CaptureView(digest, "intact", str(archive.path(digest)), record["url"] or "",
                       record["captured_at"] or "", record["status"], list(record["headers"]),
                       payload[:CAPTURE_SHOWN_BYTES].decode("utf-8", errors="replace"), len(payload),
                       hashlib.sha256(payload).hexdigest())
