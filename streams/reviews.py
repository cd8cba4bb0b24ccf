"""Recording an analyst's decision: appended to the document's history in the store, with the document showing
the decision that stands, then published to the reviews topic (the audit trail and the training data's source)
through an outbox, so that a decision made while Kafka is down stands and is published later."""
from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from streams.config import ConfigError, VigilSettings, read_yaml_mapping
from streams.schemas import REVIEWER_SOURCES, Decision, ReviewEvent
from streams.stores import Store, open_store
from streams.stores.base import standing_decision
from streams.transports import open_transport

__all__ = ["NothingToRetract", "ReviewRefused", "UnknownDocument", "UnknownLabels", "UnknownReason",
           "policy_reasons", "publish_pending", "publish_periodically", "record_review", "standing_decision"]

log = logging.getLogger(__name__)

DEFAULT_REASONS_FILE = Path(__file__).resolve().parents[1] / "deploy" / "review" / "reasons.yaml"
REASON_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PUBLISH_BATCH = 500


class UnknownDocument(KeyError):
    """The store has no document with the event's id; nothing was recorded or published."""


class ReviewRefused(ValueError):
    """A decision that cannot be recorded as given; nothing was recorded. The message says what to change."""


class UnknownLabels(ReviewRefused):
    """Corrected labels that the model which scored the document does not have."""


class UnknownReason(ReviewRefused):
    """No reason, or one that is not in the policy reasons file; the message names the known ones."""


class NothingToRetract(ReviewRefused):
    """A retraction on a document where no decision stands (never decided, or every decision withdrawn)."""


def reasons_file(settings: VigilSettings) -> Path:
    return settings.review.reasons_file or DEFAULT_REASONS_FILE


def policy_reasons(settings: VigilSettings) -> dict[str, str]:
    """The policy clauses a decision may cite, id -> description, from review.reasons_file (read each time,
    so that an admin's edit applies to the next decision). ConfigError names the file and what is wrong."""
    path = reasons_file(settings)
    data = read_yaml_mapping(path, "review.reasons_file",
                             "set review.reasons_file (VIGIL_REVIEW_REASONS_FILE) to the policy reasons file")
    if "reasons" not in data:
        raise ConfigError(f"{path}: needs `reasons:`, a mapping of reason id to its description")
    reasons = data["reasons"]
    if not isinstance(reasons, dict):
        raise ConfigError(f"{path}: `reasons:` must be a mapping of reason id to its description")
    if not reasons:
        raise ConfigError(f"{path}: lists no reasons; a decision must cite one")
    for reason_id, description in reasons.items():
        if not isinstance(reason_id, str) or not REASON_ID.match(reason_id):
            raise ConfigError(f"{path}: {reason_id!r} is not a reason id (lower-case letters, digits and "
                              "hyphens, like recruitment-call)")
        if not isinstance(description, str) or not description.strip():
            raise ConfigError(f"{path}: {reason_id} has no description")
    return {reason_id: " ".join(description.split()) for reason_id, description in reasons.items()}


def _check(event: ReviewEvent, document: dict, reasons: dict[str, str], store: Store,
           settings: VigilSettings) -> None:
    """Refuse, before anything is written, what cannot be recorded as given."""
    if event.reviewer_source not in REVIEWER_SOURCES:
        raise ReviewRefused(f"reviewer_source {event.reviewer_source!r} is not one of {', '.join(REVIEWER_SOURCES)}")
    known = ", ".join(reasons)
    if event.reason is None and event.decision is not Decision.retracted:
        raise UnknownReason(f"a {event.decision.value} decision needs a reason from {reasons_file(settings)}: "
                            f"one of {known}")
    if event.reason is not None and event.reason not in reasons:
        raise UnknownReason(f"{event.reason!r} is not a reason in {reasons_file(settings)}; the reasons are: {known}")
    if event.decision is Decision.retracted:
        if event.corrected_labels is not None:
            raise ReviewRefused("a retraction withdraws the decision that stands; it takes no corrected labels")
        if standing_decision(store.review_history(event.document_id)) is None:
            raise NothingToRetract(f"{event.document_id} has no standing decision to retract (never decided, or "
                                   "every decision on it already withdrawn)")
        return
    labels = sorted(document.get("scores") or {})
    unknown = sorted(set(event.corrected_labels or ()) - set(labels))
    if unknown:  # they would go into training data as labels no model has
        raise UnknownLabels(f"corrected labels {unknown} are not labels of {document.get('model_version')}, "
                            f"which scored {event.document_id} (its labels: {', '.join(labels) or 'none'})")


def record_review(event: ReviewEvent, store: Store, settings: VigilSettings) -> str:
    """Check the decision, append it to the document's history (the document shows the decision that stands),
    then try to publish it. Returns "published", or "queued" when the broker cannot take it now: the
    decision stands in the store either way, and publish_pending sends it later. Raises UnknownDocument or a
    ReviewRefused (UnknownReason, UnknownLabels, NothingToRetract) with nothing recorded; never raises for a
    broker outage."""
    reasons = policy_reasons(settings)  # a broken reasons file fails every decision, whatever the document
    document = store.get(event.document_id)
    if document is None:
        raise UnknownDocument(event.document_id)
    _check(event, document, reasons, store, settings)
    try:
        store.append_review(event)
    except KeyError:
        raise UnknownDocument(event.document_id) from None
    try:
        # Our event was in the outbox before this started: once a batch comes back short, it was sent.
        while publish_pending(store, settings, timeout_s=settings.review.publish_timeout_s) >= PUBLISH_BATCH:
            pass
    except Exception as exc:  # the decision is durable in the store; the outbox keeps it for later
        log.warning("decision %s on %s recorded, not yet published to %s: %s", event.event_id, event.document_id,
                    settings.topics.reviews, exc)
        return "queued"
    return "published"


def _waiting_at_most(settings: VigilSettings, timeout_s: float) -> VigilSettings:
    """The settings with Kafka's client waiting at most timeout_s to connect and to be answered."""
    milliseconds = max(1, int(timeout_s * 1000))
    quick = settings.model_copy(deep=True)
    quick.kafka.client = {**settings.kafka.client, "bootstrap_timeout_ms": milliseconds,
                          "request_timeout_ms": milliseconds, "max_block_ms": milliseconds}
    return quick


def publish_pending(store: Store, settings: VigilSettings, limit: int = PUBLISH_BATCH,
                    timeout_s: float | None = None) -> int:
    """Send up to `limit` decisions the store holds but the reviews topic does not (the outbox), the oldest
    decided first, keyed by document id; flush; then mark them published. Returns how many were sent.

    At-least-once: a crash between the flush and the marking, or two processes publishing at once, sends an
    event again, so consumers of the reviews topic drop copies by `event_id`. When the broker cannot take
    them, raises TransientError (or a DeliveryError) and they stay queued. With timeout_s, Kafka is waited
    for at most that long (recording a decision should not hang on an outage)."""
    events = store.unpublished_reviews(limit)
    if not events:
        return 0
    topic = settings.topics.reviews
    with open_transport(_waiting_at_most(settings, timeout_s) if timeout_s else settings) as transport:
        transport.ensure_topics([topic])
        producer = transport.producer()
        try:
            for event in events:
                producer.send(topic, event.to_bytes(), key=event.document_id.encode("utf-8"))
            producer.flush(timeout_s)
        finally:
            try:
                producer.close()
            except Exception as exc:  # already reported by flush; closing must not hide that error
                log.debug("closing the reviews producer: %s", exc)
    store.mark_published([event.event_id for event in events])
    log.info("published %d decisions to %s", len(events), topic)
    return len(events)


def publish_periodically(settings: VigilSettings, stop: threading.Event) -> threading.Thread:
    """Start a thread that sends queued decisions every review.publish_interval_s until stop is set (the index
    stage's processes run it: `vigil run`, `vigil index`). It has its own store connection; an outage is
    logged and tried again next time."""
    def run():
        with open_store(settings) as store:
            while not stop.wait(settings.review.publish_interval_s):
                try:
                    # Waiting on Kafka at most publish_timeout_s: a stopping process is not held up long.
                    while publish_pending(store, settings, timeout_s=settings.review.publish_timeout_s) \
                            >= PUBLISH_BATCH and not stop.is_set():
                        pass
                except Exception as exc:
                    log.warning("queued decisions not published to %s yet (next try in %.0f s): %s",
                                settings.topics.reviews, settings.review.publish_interval_s, exc)

    thread = threading.Thread(target=run, name="reviews-outbox", daemon=True)
    thread.start()
    return thread
