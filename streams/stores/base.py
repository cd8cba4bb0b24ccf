"""The store interface, the indexed document shape and the query both backends answer alike."""
from __future__ import annotations

import abc
import dataclasses
import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit

from streams.closing import Closing
from streams.hashlists.banks import Entry, HashList
from streams.schemas import ClassifiedDocument, Decision, ReviewEvent, utcnow
from streams.stores.query import TextQuery, parse_query

# What a document's review.status can be: a retraction is never the status, it restores the decision before it.
REVIEW_STATUSES = ("unreviewed", *(decision.value for decision in Decision if decision is not Decision.retracted))
UNREVIEWED = {"status": "unreviewed"}
REVIEW_FIELDS = ("status", "reviewer", "reviewer_source", "decided_at", "corrected_labels", "reason", "note",
                 "event_id")  # a document's `review` object (review_fields)


def to_index_document(doc: ClassifiedDocument) -> dict:
    """Flatten a classified document into what the index holds (review fields excluded on purpose)."""
    raw = doc.document.model_dump(mode="json", by_alias=False)
    raw.pop("schema_", None)
    return {
        **raw,
        "domain": urlsplit(doc.document.canonical_url).hostname or "",
        "model_name": doc.model_name,
        "model_version": doc.model_version,
        "scores": doc.scores,
        "max_score": max(doc.scores.values(), default=0.0),
        "labels": doc.labels,
        "flagged": doc.flagged,
        "matches": [match.model_dump(mode="json") for match in doc.matches],
        "language_validated": doc.language_validated,
        "first_pass": doc.first_pass.model_dump(mode="json") if doc.first_pass else None,
        "thresholds": doc.thresholds,
        "thresholds_version": doc.thresholds_version,
        "evidence": [e.model_dump(mode="json") for e in doc.evidence],
        "shadow": doc.shadow.model_dump(mode="json") if doc.shadow else None,
        "classified_at": doc.classified_at.isoformat(),
        "indexed_at": utcnow().isoformat(),
    }


def review_fields(event: ReviewEvent | None) -> dict:
    """A document's `review` fields: its standing decision (None: unreviewed)."""
    if event is None:
        return dict(UNREVIEWED)
    return {
        "status": event.decision.value,
        "reviewer": event.reviewer,
        "reviewer_source": event.reviewer_source,
        "decided_at": event.decided_at.isoformat(),
        "corrected_labels": event.corrected_labels,
        "reason": event.reason,
        "note": event.note,
        "event_id": event.event_id,
    }


def utc_text(moment: datetime) -> str:
    """A time as decisions' times are kept (ISO 8601 in UTC), so that text order is time order."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def history_entry(event: ReviewEvent, published: bool) -> dict:
    """One decision as review_history and audit_log list it."""
    return {"event_id": event.event_id, "document_id": event.document_id, "reviewer": event.reviewer,
            "reviewer_source": event.reviewer_source, "decision": event.decision.value,
            "labels": event.corrected_labels, "reason": event.reason, "note": event.note,
            "decided_at": event.decided_at.isoformat(), "published": published}


def standing_decision(history: list[dict]) -> dict | None:
    """The decision in effect after retractions, from a history oldest first: a retraction withdraws the latest
    decision still standing before it (confirmed, escalated, retracted: confirmed stands); None when nothing
    stands (never decided, or every decision withdrawn)."""
    standing: list[dict] = []
    for entry in history:
        if entry["decision"] == Decision.retracted.value:
            if standing:
                standing.pop()
        else:
            standing.append(entry)
    return standing[-1] if standing else None


def standing_event(events: list[ReviewEvent]) -> ReviewEvent | None:
    """standing_decision over events (oldest first)."""
    by_id = {event.event_id: event for event in events}
    standing = standing_decision([{"event_id": e.event_id, "decision": e.decision.value} for e in events])
    return by_id[standing["event_id"]] if standing else None


def legacy_event(document: dict) -> ReviewEvent:
    """The decision a document recorded before stores kept a history (only its latest one was kept, and it was
    published then), with an event id derived from it, so that every store makes the same one once."""
    review = document["review"]
    event_id = hashlib.sha256(f"legacy\n{document['id']}\n{review.get('decided_at')}".encode()).hexdigest()[:32]
    return ReviewEvent(event_id=event_id, document_id=document["id"], reviewer=review.get("reviewer") or "unknown",
                       reviewer_source="cli", decision=review["status"],
                       corrected_labels=review.get("corrected_labels"), note=review.get("note") or "",
                       decided_at=review.get("decided_at") or utcnow())


@dataclass
class SearchQuery:
    text: str | None = None  # in the language of streams.stores.query.SYNTAX
    label: str | None = None
    flagged: bool | None = None
    min_score: float | None = None  # on `label`'s score when a label is given, else on the highest score
    score_below: float | None = None  # the highest score under this
    source: str | None = None
    lang: str | None = None
    since: datetime | None = None  # fetched_at range
    until: datetime | None = None
    review_status: str | None = None
    urls: tuple[str, ...] | None = None  # documents whose URL or canonical URL is one of these: versions of pages
    thread_url: str | None = None  # the posts of one forum thread or channel
    limit: int = 20
    # Unreviewed documents whose scores are nearest a threshold first: where a decision teaches the model most.
    uncertain: bool = False

    def __post_init__(self):
        if self.review_status is not None and self.review_status not in REVIEW_STATUSES:
            raise ValueError(f"review status must be one of {', '.join(REVIEW_STATUSES)}, got {self.review_status!r}")

    @property
    def text_query(self) -> TextQuery:
        """The text as every store reads it: one parser, so that the stores cannot disagree on syntax."""
        return parse_query(self.text)


@dataclass
class Hit:
    id: str
    url: str
    title: str
    source: str
    lang: str
    flagged: bool
    labels: list[str]
    scores: dict[str, float]
    fetched_at: str
    review_status: str
    model_version: str
    snippet: str = ""
    evidence: list[dict] = field(default_factory=list)
    thresholds: dict[str, float] = field(default_factory=dict)
    canonical_url: str = ""
    matches: list[dict] = field(default_factory=list)  # hits in hash lists of confirmed content

    @classmethod
    def of(cls, document: dict, review_status: str, snippet: str = "") -> "Hit":
        """A hit from an indexed document (what to_index_document made); the text's start as the default snippet."""
        return cls(
            id=document["id"], url=document["url"], title=document["title"], source=document["source"],
            lang=document["lang"], flagged=document["flagged"], labels=document["labels"], scores=document["scores"],
            fetched_at=document["fetched_at"], review_status=review_status, model_version=document["model_version"],
            snippet=snippet or document["text"][:200], evidence=document.get("evidence") or [],
            thresholds=document.get("thresholds") or {}, canonical_url=document.get("canonical_url") or "",
            matches=document.get("matches") or [])

    @property
    def margin(self) -> float:
        """How close the nearest label's score is to its threshold (small: the model was unsure)."""
        return min((abs(score - self.thresholds.get(label, 0.5)) for label, score in self.scores.items()),
                   default=1.0)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]


class Store(Closing, abc.ABC):
    """A store of indexed documents; `with open_store(settings) as store:` closes it."""
    name: str

    @abc.abstractmethod
    def setup(self) -> None:
        """Create indices/tables (idempotent)."""

    @abc.abstractmethod
    def upsert(self, docs: list[ClassifiedDocument]) -> list[Exception | None]:
        """Insert or update by document id, never touching review fields. One entry per doc:
        None, or the error that rejected it (RejectedError). Raise TransientError if the store is down."""

    @abc.abstractmethod
    def append_review(self, event: ReviewEvent) -> None:
        """Record an analyst's decision: append it to the document's history (append-only; the same event_id
        again changes nothing) and set the document's `review` fields to the standing decision (unreviewed
        when every decision was retracted), with the event unpublished (the outbox, see publish_pending in
        streams.reviews). KeyError if the document id is unknown."""

    def apply_review(self, event: ReviewEvent) -> None:
        """Record a decision: the same as append_review (kept for its callers)."""
        self.append_review(event)

    @abc.abstractmethod
    def review_history(self, doc_id: str) -> list[dict]:
        """Every decision on the document, oldest first (history_entry's fields); [] when none."""

    @abc.abstractmethod
    def audit_log(self, reviewer: str | None = None, document_id: str | None = None, since: datetime | None = None,
                  until: datetime | None = None, limit: int = 100) -> list[dict]:
        """Decisions newest first, of one reviewer or document, decided within [since, until] when given."""

    @abc.abstractmethod
    def unpublished_reviews(self, limit: int) -> list[ReviewEvent]:
        """Decisions not yet on the reviews topic, the oldest decided first."""

    @abc.abstractmethod
    def mark_published(self, event_ids: list[str]) -> None:
        """These decisions are on the reviews topic (ids not in the history are ignored)."""

    @abc.abstractmethod
    def get(self, doc_id: str) -> dict | None:
        """The indexed document with its `review` fields."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Documents matching the query, best first (by relevance with text, else by highest score);
        with `uncertain`, unreviewed documents nearest a threshold first."""
        if not query.uncertain:
            return self._search(query)
        # Candidates are scored somewhere between clearly benign and clearly violating; the nearest to a
        # threshold among many of them come first.
        candidates = dataclasses.replace(query, uncertain=False, review_status="unreviewed",
                                         limit=max(query.limit * 20, 500), min_score=query.min_score or 0.2,
                                         score_below=0.9)
        result = self._search(candidates)
        result.hits = sorted(result.hits, key=lambda hit: hit.margin)[:query.limit]
        return result

    @abc.abstractmethod
    def _search(self, query: SearchQuery) -> SearchResult:
        """The backend's answer to a query (never `uncertain`)."""

    @abc.abstractmethod
    def to_recheck(self, checked_before: datetime, limit: int) -> list[dict]:
        """Flagged documents not known to be offline, never checked or checked before the given time
        (id, url, source, availability)."""

    @abc.abstractmethod
    def record_availability(self, doc_id: str, availability: dict) -> None:
        """Whether the page is still online, when checked, since when offline (never touched by indexing)."""

    @abc.abstractmethod
    def reviewed(self) -> Iterator[dict]:
        """Every document a person has decided on, with its `review` fields (for training data)."""

    @abc.abstractmethod
    def write_alert(self, alert: dict) -> None:
        """Store an alert document (by its id: writing it again replaces it)."""

    @abc.abstractmethod
    def recent_alerts(self, limit: int = 20) -> list[dict]:
        """The newest alerts first."""

    # Hash lists of confirmed content (streams.hashlists): kept beside the documents, so that every stage
    # that opens the store sees the same lists, and a change reaches running stages by hashlists_version.

    @abc.abstractmethod
    def save_hashlist(self, hashlist: HashList) -> None:
        """Create a list or replace its metadata (by name); its entries stay."""

    @abc.abstractmethod
    def hashlists(self) -> list[HashList]:
        """Every list, by name."""

    def hashlist(self, name: str) -> HashList | None:
        return next((hashlist for hashlist in self.hashlists() if hashlist.name == name), None)

    @abc.abstractmethod
    def add_entries(self, name: str, entries: list[Entry]) -> int:
        """Add entries to a list, replacing those with the same id; how many were new. KeyError: no such list."""

    @abc.abstractmethod
    def hashlist_entries(self, name: str | None = None) -> Iterator[tuple[str, Entry]]:
        """(list name, entry) for every entry, of one list when a name is given."""

    @abc.abstractmethod
    def count_entries(self) -> dict[str, int]:
        """Entries per list (every list, none missing)."""

    @abc.abstractmethod
    def remove_entry(self, name: str, entry_id: str) -> bool:
        """Remove one entry; False when the list has no such entry."""

    @abc.abstractmethod
    def hashlists_version(self) -> str:
        """A value that changes whenever a list or an entry does: stages rebuild their index when it changes."""

    def refresh(self) -> None:
        """Make recent writes searchable (Elasticsearch refreshes on an interval)."""
