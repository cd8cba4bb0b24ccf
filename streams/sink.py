"""The index stage: classified documents in, upserted into the store; rejected documents dead-lettered."""
from __future__ import annotations

from collections import Counter, deque
from datetime import datetime, timezone

from streams.runner import Result, Stage
from streams.schemas import ClassifiedDocument
from streams.stores.base import Store


class IndexStage(Stage[ClassifiedDocument]):
    name = "index"
    input_schema = ClassifiedDocument

    def __init__(self, store: Store, input_topic: str):
        self.store = store
        self.input_topic = input_topic
        self.fetch_to_indexed_s: deque[float] = deque(maxlen=100_000)  # fetch-to-searchable latency, recent docs

    def process(self, items: list[ClassifiedDocument], stats: Counter) -> list[Result]:
        errors = self.store.upsert(items)  # TransientError propagates: the runner backs off and retries
        now = datetime.now(timezone.utc)
        results = []
        for doc, error in zip(items, errors):
            if error is None:
                stats["indexed"] += 1
                stats["flagged"] += int(doc.flagged)
                self.fetch_to_indexed_s.append((now - doc.document.fetched_at).total_seconds())
            results.append(Result(error=error))
        return results
