"""Hash lists of confirmed content (GIFCT's hash-sharing database, an HMA bank): the list and its entries.

Signal type names follow threatexchange's `SignalType.get_name()` where one exists for the content: "pdq"
(PdqSignal) for images. threatexchange names its byte hashes "video_md5" and "video_sha256" because it only
has them for video; Vigil hashes image bytes, so "md5" and "sha256" name an image file's MD5 and SHA-256,
the media-agnostic ThreatExchange indicator types HASH_MD5 and HASH_SHA256. The video names are kept as they
are (an imported list may carry them; Vigil does not hash video, so they are stored and exported but never
match). "text_exact" and "text_minhash" are Vigil's own (streams/hashlists/text.py).
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from streams.schemas import utcnow

Label = Literal["propaganda", "recruitment"]
LABELS: tuple[str, ...] = ("propaganda", "recruitment")

IMAGE_SIGNALS = ("pdq", "md5", "sha256")
TEXT_SIGNALS = ("text_exact", "text_minhash")
VIDEO_SIGNALS = ("video_md5", "video_sha256")
SIGNAL_TYPES: tuple[str, ...] = IMAGE_SIGNALS + TEXT_SIGNALS + VIDEO_SIGNALS
SignalTypeName = Literal["pdq", "md5", "sha256", "text_exact", "text_minhash", "video_md5", "video_sha256"]

_HEX = {"pdq": 64, "md5": 32, "sha256": 64, "text_exact": 64, "video_md5": 32, "video_sha256": 64}


def validate_signal(signal_type: str, value: str) -> str:
    """The value in its canonical form (lower-case hex, a well-formed MinHash signature), or ValueError with
    a short reason: formats.py puts it after the row and field."""
    if signal_type not in SIGNAL_TYPES:
        raise ValueError(f"unknown signal type {signal_type!r} (known: {', '.join(SIGNAL_TYPES)})")
    if signal_type == "text_minhash":
        from streams.hashlists.text import parse_signature  # text.py imports this module

        parse_signature(value)
        return value.strip()
    digits = _HEX[signal_type]
    value = value.strip().lower()
    if not re.fullmatch(rf"[0-9a-f]{{{digits}}}", value):
        raise ValueError(f"not {digits} hex digits")
    return value


class HashList(BaseModel):
    """One list (a bank): where it came from and on what terms it may be used and shared."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z0-9_-]{1,64}$")
    source: str = Field(min_length=1, description="Who supplied it: GIFCT, an exchange, Vigil's own reviews.")
    terms: str = Field(min_length=1, description="Licence or terms of use: whether it may be re-shared.")
    default_label: Label = Field(description="For entries that carry no label of their own.")
    created_at: datetime = Field(default_factory=utcnow)

    @field_validator("created_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


class Entry(BaseModel):
    """One hash in a list, with why it is there (the reviewed document and the decision, when Vigil's own)."""
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(min_length=1, max_length=200)
    signal_type: SignalTypeName
    value: str = Field(min_length=1)
    label: Label | None = Field(None, description="None: the list's default label.")
    note: str = ""
    added_at: datetime = Field(default_factory=utcnow)
    document_id: str | None = Field(None, description="The reviewed document the hash was taken from.")
    decision: str | None = Field(None, description="The review decision that confirmed it.")
    reviewer: str | None = None
    source_ref: str | None = Field(None, description="The entry's id upstream (a ThreatExchange descriptor, ...).")

    @field_validator("value")
    @classmethod
    def _canonical(cls, value: str, info) -> str:
        signal_type = info.data.get("signal_type")
        return validate_signal(signal_type, value) if signal_type else value

    @field_validator("added_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def label_of(hash_list: HashList, entry: Entry) -> str:
    return entry.label or hash_list.default_label
