"""Recording an analyst's decision: on the document in the store, then as an event on the reviews topic
(the audit trail and the training data's source)."""
from __future__ import annotations

from streams.config import VigilSettings
from streams.schemas import ReviewEvent
from streams.stores import Store
from streams.transports import open_transport


class UnknownDocument(KeyError):
    """The store has no document with the event's id; nothing was recorded or published."""


def record_review(event: ReviewEvent, store: Store, settings: VigilSettings) -> None:
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
