"""Recording an analyst's decision: on the document in the store, then as an event on the reviews topic
(the audit trail and the training data's source)."""
from __future__ import annotations

from streams.config import VigilSettings
from streams.schemas import ReviewEvent
from streams.stores import Store
from streams.transports import open_transport


class UnknownDocument(KeyError):
    """The store has no document with the event's id; nothing was recorded or published."""


class UnknownLabels(ValueError):
    """Corrected labels that the model which scored the document does not have; nothing was recorded."""


def record_review(event: ReviewEvent, store: Store, settings: VigilSettings) -> None:
    document = store.get(event.document_id)
    if document is None:
        raise UnknownDocument(event.document_id)
    known = sorted(document.get("scores") or {})
    unknown = sorted(set(event.corrected_labels or ()) - set(known))
    if unknown:  # they would go into training data as labels no model has
        raise UnknownLabels(f"corrected labels {unknown} are not labels of {document.get('model_version')}, "
                            f"which scored {event.document_id} (its labels: {', '.join(known) or 'none'})")
    try:
        store.apply_review(event)
    except KeyError:
        raise UnknownDocument(event.document_id) from None
    with open_transport(settings) as transport:  # only once the store has the decision
        transport.ensure_topics([settings.topics.reviews])
        producer = transport.producer()
        try:
            producer.send(settings.topics.reviews, event.to_bytes(), key=event.document_id.encode("ascii"))
        finally:
            producer.close()  # flushes: the event is durable once this returns
