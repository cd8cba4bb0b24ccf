"""The index stage: classified documents in, upserted into the store; rejected documents dead-lettered."""
from __future__ import annotations

import logging
from collections import Counter, deque
from datetime import datetime, timezone

from streams.alerts import FlagRateMonitor
from streams.errors import TransientError
from streams.runner import Result, Stage
from streams.schemas import ClassifiedDocument
from streams.stores.base import Store

log = logging.getLogger(__name__)


class IndexStage(Stage[ClassifiedDocument]):
    name = "index"
    input_schema = ClassifiedDocument

    def __init__(self, store: Store, input_topic: str, monitor: FlagRateMonitor | None = None):
        self.store = store
        self.input_topic = input_topic
        self.monitor = monitor
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
        if self.monitor is not None:
            indexed = [doc for doc, error in zip(items, errors) if error is None]
            for alert in self.monitor.observe(indexed, now):
                stats["alerts"] += 1
                try:
                    self.store.write_alert(alert.as_dict())
                except TransientError as exc:  # the log line already carries the alert; indexing goes on
                    log.error("could not store alert %s: %s", alert.id, exc)
        return results
