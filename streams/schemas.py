"""The message contract between stages: versioned, validated pydantic models, JSON on the wire."""
from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime, timezone
from enum import Enum
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_TEXT_CHARS = 50_000


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def document_id(canonical_url: str, text_hash: str) -> str:
    """Content-derived id: the same page with the same text is the same document everywhere."""
    return hashlib.sha256(f"{canonical_url}\n{text_hash}".encode("utf-8")).hexdigest()[:32]


class MessageError(ValueError):
    """A message that does not fit the contract; the text names the field."""

    def __init__(self, schema: str, detail: str):
        super().__init__(f"{schema}: {detail}")
        self.schema = schema
        self.detail = detail


class Message(BaseModel):
    # `schema` is a field on the wire; `schema_` in Python, since BaseModel.schema exists.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode("utf-8")

    @classmethod
    def from_bytes(cls: type[M], data: bytes) -> M:
        """Parse and validate; raise MessageError naming each bad field."""
        schema = cls.model_fields["schema_"].default
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            problems = []
            for item in exc.errors():
                field = ".".join(str(p) for p in item["loc"]) or "(message)"
                problems.append(f"{'schema' if field == 'schema_' else field}: {item['msg']}")
            raise MessageError(schema, "; ".join(problems)) from None


M = TypeVar("M", bound=Message)


class PostInfo(BaseModel):
    """A forum post or channel message: where it sits and what travels with it."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    post_id: str
    thread_title: str = ""
    thread_url: str = ""
    views: int | None = Field(None, ge=0)
    forwarded_from: str | None = Field(None, description="The channel a message was forwarded from.")
    media: list[str] = Field(default_factory=list, description="Media links. Images among them are fetched and "
                             "hashed (RawDocument.images); nothing else is downloaded.")


class ArchiveRef(BaseModel):
    """Where the response a document came from is archived (crawlers/evidence.py)."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    warc_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    payload_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    captured_at: datetime


class ImageRef(BaseModel):
    """An image a page shows, by its hashes: the bytes are discarded unless the source retains media as
    evidence (then they are in the WARC archive)."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    url: str = Field(min_length=1)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    md5: str = Field(pattern=r"^[0-9a-f]{32}$")
    pdq: str | None = Field(None, pattern=r"^[0-9a-f]{64}$", description="256-bit PDQ hash, hex; None when "
                            "the image is too small or too flat to hash.")
    pdq_quality: int | None = Field(None, ge=0, le=100)
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    archived: bool = Field(False, description="The bytes went into the evidence archive.")


class RawDocument(Message):
    # vigil.raw/2 added `images`; a vigil.raw/1 message still parses, with none.
    schema_: Literal["vigil.raw/2", "vigil.raw/1"] = Field("vigil.raw/2", alias="schema")
    id: str = Field(pattern=r"^[0-9a-f]{32}$", description="document_id(canonical URL, text hash): 32 hex digits")
    url: str = Field(min_length=1)
    canonical_url: str = Field(min_length=1)
    source: str = Field(min_length=1)
    fetched_at: datetime
    published_at: datetime | None = None
    http_status: int = Field(ge=100, le=599)
    content_type: str = ""
    lang: str = Field("und", description="ISO 639-1 code or 'und'.")
    lang_confidence: float = Field(0.0, ge=0.0, le=1.0)
    title: str = ""
    text: str = Field(max_length=MAX_TEXT_CHARS)
    text_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    simhash: str = Field(pattern=r"^[0-9a-f]{16}$", description="64-bit simhash, hex.")
    author: str | None = Field(None, description="Pseudonym (keyed HMAC), never the name.")
    crawl_job: str = ""
    spider: str = ""
    depth: int = Field(0, ge=0)
    near_duplicate_of: str | None = Field(None, description="A recent document of the same source whose "
                                          "text differs only slightly (simhash within 3 bits).")
    post: PostInfo | None = Field(None, description="For forum posts and channel messages.")
    archive: ArchiveRef | None = Field(None, description="The archived response (WARC), as evidence.")
    images: list[ImageRef] = Field(default_factory=list, description="The images the page shows, hashed in the "
                                   "crawl stage's worker.")

    @field_validator("fetched_at", "published_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    label: str
    text: str
    score: float = Field(ge=0.0, le=1.0)
    start: int = Field(ge=0, description="Character offset in the document text.")
    end: int = Field(ge=0)
    window: int = Field(0, ge=0, description="Which window of a long text it came from.")
    contribution: float | None = Field(None, description="How much the window's score drops without this "
                                       "sentence (occlusion).")


class ShadowScores(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    model_version: str
    scores: dict[str, float]
    labels: list[str]
    flagged: bool


class FirstPassResult(BaseModel):
    """What the cheap first pass made of a document (classifier.first_pass): sent on to the transformer, or
    cleared, in which case the transformer never scored it and `scores` is empty."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: str
    score: float
    threshold: float
    sent_on: bool


class Match(BaseModel):
    """A hit in a hash list of confirmed content: it flags the document with the entry's label."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    list: str = Field(min_length=1, description="The hash list's name.")
    entry: str = Field(min_length=1, description="The entry's id in that list.")
    signal_type: str = Field(min_length=1, description="threatexchange's name of the signal: pdq, md5, "
                             "text_exact, text_minhash, ...")
    distance: float = Field(ge=0, description="0 for an exact match; PDQ: Hamming bits; text: 1 - similarity.")
    label: str = Field(min_length=1)
    evidence: str = Field("", description="The matched passage (its start), or the matched image's URL.")


class ClassifiedDocument(Message):
    # vigil.classified/2 added `matches`; a vigil.classified/1 message still parses, with none.
    schema_: Literal["vigil.classified/2", "vigil.classified/1"] = Field("vigil.classified/2", alias="schema")
    document: RawDocument
    model_name: str
    model_version: str
    scores: dict[str, float]
    labels: list[str]
    flagged: bool
    thresholds: dict[str, float]
    thresholds_version: str | None = Field(None, description="The thresholds file in effect, if any.")
    evidence: list[Evidence] = Field(default_factory=list)
    shadow: ShadowScores | None = Field(None, description="A candidate model's scores, recorded, not used to flag.")
    first_pass: FirstPassResult | None = Field(None, description="Set when a first pass screened the document.")
    language_validated: bool | None = Field(
        None, description="Whether the model was validated on the document's language (its card lists the "
        "languages with enough labelled cases); False: these scores are unmeasured guesses. None: the model does "
        "not say.")
    matches: list[Match] = Field(default_factory=list, description="Hits in hash lists of confirmed content.")
    classified_at: datetime = Field(default_factory=utcnow)

    @field_validator("scores")
    @classmethod
    def _probabilities(cls, value: dict[str, float]) -> dict[str, float]:
        for label, score in value.items():
            if not 0.0 <= score <= 1.0:
                raise ValueError(f"score for {label!r} must be a probability, got {score}")
        return value


class CrawlStats(Message):
    """One crawl of one source: what it fetched, published and met (`vigil.crawl-stats`)."""
    schema_: Literal["vigil.crawl-stats/1"] = Field("vigil.crawl-stats/1", alias="schema")
    crawl_job: str
    source: str
    spider: str
    started_at: datetime | None = None
    finished_at: datetime = Field(default_factory=utcnow)
    duration_s: float = Field(ge=0)
    pages: int = Field(ge=0, description="Responses received.")
    documents: int = Field(ge=0, description="Documents published to the raw topic.")
    bytes: int = Field(ge=0)
    unchanged: int = Field(0, ge=0, description="Pages skipped as unchanged since the last run.")
    errors: dict[str, int] = Field(default_factory=dict, description="Errors and refusals by kind.")
    finish_reason: str = ""


class Decision(str, Enum):
    confirmed = "confirmed"
    dismissed = "dismissed"
    escalated = "escalated"
    # Undo: withdraws the latest decision still standing. A decision of its own, never a deletion.
    retracted = "retracted"


REVIEWER_SOURCES = ("console", "cli", "proxy")


class ReviewEvent(Message):
    """One analyst decision. The history of a document is every event on it; which one stands is
    streams.reviews.standing_decision. Fields added after the first version have defaults, so events
    published before them still parse as vigil.reviews/1."""
    schema_: Literal["vigil.reviews/1"] = Field("vigil.reviews/1", alias="schema")
    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=8, max_length=64,
                          pattern=r"^[A-Za-z0-9_-]+$",
                          description="The event's idempotence key, on the topic and in the history: "
                          "consumers and stores drop a second copy.")
    document_id: str = Field(min_length=8)
    reviewer: str = Field(min_length=1)
    reviewer_source: str = Field("cli", min_length=1, description="How the reviewer's identity was established: "
                                 f"{', '.join(REVIEWER_SOURCES)}.")
    decision: Decision
    reason: str | None = Field(None, description="The policy clause the decision cites (an id from "
                               "review.reasons_file); streams.reviews.record_review requires one except to retract.")
    corrected_labels: list[str] | None = None
    note: str = ""
    decided_at: datetime = Field(default_factory=utcnow)

    @field_validator("decided_at")
    @classmethod
    def _in_utc(cls, value: datetime) -> datetime:
        # One zone everywhere, so that stores order decisions by the text of their times.
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


MAX_ERROR_CHARS = 2_000
DEAD_LETTER_OVERHEAD_BYTES = 4_096  # every field of a letter but the original, with its error at MAX_ERROR_CHARS


class DeadLetter(Message):
    schema_: Literal["vigil.dlq/1"] = Field("vigil.dlq/1", alias="schema")
    original_b64: str = Field(description="The original message bytes, base64 (their start only, when truncated).")
    original_size: int | None = Field(None, ge=0, description="Length of the whole original, in bytes.")
    original_sha256: str | None = Field(None, description="sha256 of the whole original, hex.")
    truncated: bool = Field(False, description="The letter would have been over the broker's limit, so it keeps "
                            "the original's start; the whole one is at topic[partition]@offset while retained.")
    topic: str
    partition: int | None = None
    offset: int | None = None
    stage: str
    error: str
    attempts: int = Field(ge=1)
    failed_at: datetime = Field(default_factory=utcnow)

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)

    @classmethod
    def of(cls, original: bytes | None, *, topic: str, stage: str, error: str, attempts: int,
           partition: int | None = None, offset: int | None = None, max_bytes: int | None = None) -> "DeadLetter":
        """original None: a Kafka tombstone (a record with no value), kept as no bytes. With max_bytes, the
        letter fits in that many bytes: a longer original is cut, keeping its size and hash."""
        original = original or b""
        kept = original
        if max_bytes is not None:
            kept = original[:max(0, (max_bytes - DEAD_LETTER_OVERHEAD_BYTES) * 3 // 4)]  # base64 adds a third
        if len(error) > MAX_ERROR_CHARS:
            error = f"{error[:MAX_ERROR_CHARS]}... ({len(error):,} characters)"
        return cls(original_b64=base64.b64encode(kept).decode("ascii"), original_size=len(original),
                   original_sha256=hashlib.sha256(original).hexdigest(), truncated=len(kept) < len(original),
                   topic=topic, partition=partition, offset=offset, stage=stage, error=error, attempts=attempts)
