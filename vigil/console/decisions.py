"""Turning a console form into a review event and recording it (streams.reviews.record_review): the reviewer
is the logged-in account, the source "console"; a reason from the policy is required."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.exceptions import HTTPException

from streams.config import VigilSettings
from streams.reviews import (
    NothingToRetract,
    ReviewRefused,
    UnknownDocument,
    policy_reasons,
    record_review,
    standing_decision,
)
from streams.schemas import Decision, ReviewEvent
from vigil.console.auth import User

if TYPE_CHECKING:
    from vigil.console.app import Console

# The key that records each decision on a document page (console.js reads them from the buttons).
DECISION_KEYS = {"confirmed": "c", "dismissed": "d", "escalated": "e", "retracted": "u"}
UNDO = "retracted"


def decision_values() -> list[str]:
    return [decision.value for decision in Decision]


def policy_reasons_of(settings: VigilSettings) -> dict[str, str]:
    return dict(policy_reasons(settings))


def standing_of(history: list[dict]) -> dict | None:
    return standing_decision(history) if history else None


def _message(exc: Exception) -> str:
    return str(exc.args[0]) if exc.args else str(exc)


def decide(console: Console, user: User, doc_id: str, decision: str, labels: list[str], reason: str | None,
           note: str) -> str:
    """Record the decision; "published" or "queued" (the reviews topic was unreachable). HTTPException with
    what to change when the decision cannot be recorded."""
    if decision not in decision_values():
        raise HTTPException(400, f"decision must be one of {', '.join(decision_values())}, got {decision!r}")
    holder = console.claims.holder(doc_id)
    if holder is not None and holder.reviewer != user.name:
        raise HTTPException(409, f"{holder.reviewer} holds this item until {holder.expires:%H:%M} UTC; "
                            "take the next item of the queue")
    doc = console.store.get(doc_id)
    if doc is None:
        raise HTTPException(404, f"no document {doc_id} in the {console.store.name} store")
    if decision != UNDO and not reason:
        raise HTTPException(400, "choose a reason from the policy for the decision")
    corrected = None
    if decision != UNDO and set(labels) != set(doc.get("labels") or ()):
        corrected = sorted(set(labels))
    event = ReviewEvent(document_id=doc_id, reviewer=user.name, decision=decision, corrected_labels=corrected,
                        note=note.strip(), reason=reason, reviewer_source="console")
    try:
        result = record_review(event, console.store, console.settings)
    except UnknownDocument:
        raise HTTPException(404, f"no document {doc_id} in the {console.store.name} store") from None
    except NothingToRetract as exc:
        raise HTTPException(409, _message(exc)) from None
    except ReviewRefused as exc:  # an unknown reason or label: the message names the known ones
        raise HTTPException(400, _message(exc)) from None
    return result or "published"


@dataclass
class BulkOutcome:
    recorded: int = 0
    queued: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def bulk_decide(console: Console, user: User, ids: list[str], decision: str, reason: str | None,
                note: str, labels_by_id: dict[str, list[str]] | None = None) -> BulkOutcome:
    """The same decision on each selected item, with its labels as corrected in `labels_by_id` (an item not
    in it keeps the model's labels); items another reviewer holds are skipped."""
    if decision not in decision_values():
        raise HTTPException(400, f"decision must be one of {', '.join(decision_values())}, got {decision!r}")
    if decision != UNDO and not reason:
        raise HTTPException(400, "choose a reason from the policy for the decision")
    outcome = BulkOutcome()
    for doc_id in dict.fromkeys(ids):
        claim = console.claims.claim(doc_id, user.name)
        if claim.reviewer != user.name:
            outcome.skipped.append(doc_id)
            continue
        try:
            if labels_by_id is not None and doc_id in labels_by_id:
                labels = labels_by_id[doc_id]
            else:
                labels = list((console.store.get(doc_id) or {}).get("labels") or ())
            result = decide(console, user, doc_id, decision, labels, reason, note)
        except HTTPException as exc:
            outcome.skipped.append(doc_id)
            outcome.errors.append(f"{doc_id}: {exc.detail}")
            continue
        finally:
            console.claims.release(doc_id, user.name)
        outcome.recorded += 1
        outcome.queued += result == "queued"
    return outcome
