"""The review queues, built from store searches: flagged and unreviewed, uncertain (nearest a threshold),
escalated, and new versions of pages already decided. Each can be filtered by label, source and language
and ordered by score, age or uncertainty; `next_item` walks a queue past items others have claimed."""
from __future__ import annotations

import dataclasses
from collections.abc import Collection
from dataclasses import dataclass, field
from urllib.parse import urlencode

from streams.stores import Hit, SearchQuery, Store

ORDERS = ("score", "age", "uncertainty")
WINDOW = 200  # items of a queue the console looks at once (the rest come as earlier ones are decided)
DECIDED = ("confirmed", "dismissed", "escalated")


@dataclass(frozen=True)
class Queue:
    name: str
    title: str
    description: str
    default_order: str


QUEUES = {queue.name: queue for queue in (
    Queue("flagged", "Flagged, awaiting review", "Items the model flagged that nobody has decided on.", "score"),
    Queue("uncertain", "Uncertain", "Unreviewed items whose scores are nearest a threshold: a decision on these "
          "teaches the model most.", "uncertainty"),
    Queue("escalated", "Escalated", "Items a reviewer escalated for a second opinion.", "age"),
    Queue("new-versions", "New versions of decided pages", "A page already decided has a newer version (same "
          "URL, new text) that nobody has decided on; the earlier decision is linked.", "age"),
)}


@dataclass(frozen=True)
class QueueFilter:
    label: str | None = None
    source: str | None = None
    lang: str | None = None
    order: str | None = None

    @classmethod
    def of(cls, params) -> "QueueFilter":
        """From query parameters (or form fields); empty values are no filter, unknown orders the default."""
        def value(name: str) -> str | None:
            text = (params.get(name) or "").strip()
            return text or None
        order = value("order")
        return cls(value("label"), value("source"), value("lang"), order if order in ORDERS else None)

    def query_string(self, **extra: str) -> str:
        params = {k: v for k, v in dataclasses.asdict(self).items() if v}
        params.update({k: v for k, v in extra.items() if v})
        return urlencode(params)


@dataclass
class QueueItem:
    hit: Hit
    earlier: Hit | None = None  # new-versions: the decided earlier version of the page

    @property
    def id(self) -> str:
        return self.hit.id

    @property
    def top_score(self) -> float:
        return max(self.hit.scores.values(), default=0.0)


@dataclass
class QueueView:
    queue: Queue
    filter: QueueFilter
    total: int
    items: list[QueueItem] = field(default_factory=list)

    @property
    def order(self) -> str:
        return self.filter.order or self.queue.default_order


def _sorted(items: list[QueueItem], order: str) -> list[QueueItem]:
    if order == "age":  # waiting longest first
        return sorted(items, key=lambda item: item.hit.fetched_at)
    if order == "uncertainty":
        return sorted(items, key=lambda item: item.hit.margin)
    return sorted(items, key=lambda item: -item.top_score)


def _query(filt: QueueFilter, **fields) -> SearchQuery:
    return SearchQuery(label=filt.label, source=filt.source, lang=filt.lang, **fields)


def new_versions(store: Store, filt: QueueFilter, window: int = WINDOW) -> list[QueueItem]:
    """Unreviewed documents (the `window` with the highest scores) whose page, by URL or canonical URL, has an earlier
    document somebody decided on, however long ago."""
    unreviewed = store.search(_query(filt, review_status="unreviewed", limit=window)).hits
    urls = tuple({url for hit in unreviewed for url in (hit.url, hit.canonical_url) if url})
    if not urls:
        return []
    decided: dict[str, list[Hit]] = {}
    for status in DECIDED:
        for hit in store.search(SearchQuery(review_status=status, urls=urls, limit=10 * window)).hits:
            for url in {hit.url, hit.canonical_url} - {""}:
                decided.setdefault(url, []).append(hit)
    items = []
    for hit in unreviewed:
        earlier = [other for url in {hit.url, hit.canonical_url} - {""} for other in decided.get(url, ())
                   if other.id != hit.id and other.fetched_at <= hit.fetched_at]
        if earlier:
            items.append(QueueItem(hit, max(earlier, key=lambda other: other.fetched_at)))
    return items


def queue_view(store: Store, name: str, filt: QueueFilter, window: int = WINDOW) -> QueueView:
    queue = QUEUES[name]
    order = filt.order or queue.default_order
    if name == "new-versions":
        items = new_versions(store, filt, window)
        return QueueView(queue, filt, len(items), _sorted(items, order))
    if name == "flagged":
        result = store.search(_query(filt, flagged=True, review_status="unreviewed", limit=window))
    elif name == "uncertain":
        result = store.search(_query(filt, uncertain=True, limit=window))
    else:
        result = store.search(_query(filt, review_status="escalated", limit=window))
    return QueueView(queue, filt, result.total, _sorted([QueueItem(hit) for hit in result.hits], order))


def queue_counts(store: Store, filt: QueueFilter = QueueFilter()) -> dict[str, int]:
    """How many items each queue holds (new versions: among the WINDOW highest-scoring unreviewed documents)."""
    counts = {
        "flagged": store.search(_query(filt, flagged=True, review_status="unreviewed", limit=1)).total,
        "uncertain": store.search(_query(filt, uncertain=True, limit=1)).total,
        "escalated": store.search(_query(filt, review_status="escalated", limit=1)).total,
        "new-versions": len(new_versions(store, filt)),
    }
    return counts


def next_item(ids: list[str], after: str | None = None, skip: Collection[str] = (),
              backwards: bool = False) -> str | None:
    """The item after `after` (before it, backwards) that nobody else holds. When `after` has left the queue
    (it was decided), forwards starts from the top and backwards finds nothing."""
    if after in ids:
        position = ids.index(after)
        candidates = list(reversed(ids[:position])) if backwards else ids[position + 1:]
    else:
        candidates = [] if backwards else ids
    return next((doc for doc in candidates if doc not in skip), None)
