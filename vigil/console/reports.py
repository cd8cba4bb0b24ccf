"""What operators watch, computed from the store: precision of flags by model version and label from the
decisions, decisions per reviewer per day from the audit log, and the flag rate of each source."""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from streams.stores import SearchQuery, Store


@dataclass
class Precision:
    model_version: str
    label: str
    confirmed: int = 0
    dismissed: int = 0

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.dismissed
        return self.confirmed / decided if decided else None


def precision_by_model(reviewed: Iterable[dict]) -> list[Precision]:
    """confirmed / (confirmed + dismissed) for each flagged label of each model version. A confirmation whose
    corrected labels leave a label out counts against that label; escalations are not decided yet."""
    table: dict[tuple[str, str], Precision] = {}
    for doc in reviewed:
        review = doc.get("review") or {}
        status = review.get("status")
        if status not in ("confirmed", "dismissed"):
            continue
        corrected = review.get("corrected_labels")
        for label in doc.get("labels") or ():
            key = (doc.get("model_version") or "?", label)
            row = table.setdefault(key, Precision(*key))
            if status == "confirmed" and (corrected is None or label in corrected):
                row.confirmed += 1
            else:
                row.dismissed += 1
    return [table[key] for key in sorted(table)]


def decisions_per_day(events: Iterable[dict]) -> tuple[list[str], dict[str, dict[str, Counter]]]:
    """(days newest first, reviewer -> day -> Counter of decisions) from audit-log entries."""
    table: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    days: set[str] = set()
    for event in events:
        day = str(event.get("decided_at") or "")[:10]
        days.add(day)
        table[event.get("reviewer") or "?"][day][event.get("decision") or "?"] += 1
    return sorted(days, reverse=True), {reviewer: dict(by_day) for reviewer, by_day in sorted(table.items())}


@dataclass
class SourceRate:
    source: str
    documents: int
    flagged: int

    @property
    def rate(self) -> float:
        return self.flagged / self.documents if self.documents else 0.0


def flag_rates(store: Store, sample: int = 1000) -> list[SourceRate]:
    """Flagged share of each source's documents (sources found among the newest `sample` documents)."""
    sources = sorted({hit.source for hit in store.search(SearchQuery(limit=sample)).hits})
    rates = []
    for source in sources:
        documents = store.search(SearchQuery(source=source, limit=1)).total
        flagged = store.search(SearchQuery(source=source, flagged=True, limit=1)).total
        rates.append(SourceRate(source, documents, flagged))
    return sorted(rates, key=lambda rate: -rate.rate)
