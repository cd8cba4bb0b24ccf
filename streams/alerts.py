"""Flag-rate alerts: a window whose flag rate for a source or a label jumps well above its baseline.

A spike is either a false-positive flood (a model or a site changed) or a real event; either way a
person should look. Without earlier windows there is no baseline and no alert (the saved search
"High score from a new source" covers new sources). Counting happens in the index stage, per window of
indexing time; an alert is written to the store's alerts (the `<alias>-alerts` index in Elasticsearch)
and logged, once per source or label and window (its id is derived from them, so a restart does not duplicate it).
"""
from __future__ import annotations

import hashlib
import logging
from collections import defaultdict, deque
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone

from streams.config import AlertSettings
from streams.schemas import ClassifiedDocument

log = logging.getLogger(__name__)


@dataclass
class Alert:
    id: str
    kind: str  # "source" or "label"
    key: str
    window_start: str
    window_end: str
    documents: int
    flags: int
    flag_rate: float
    baseline_rate: float
    ratio: float | None
    message: str
    created_at: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Window:
    start: datetime
    documents: int = 0
    flags: int = 0


class FlagRateMonitor:
    def __init__(self, settings: AlertSettings):
        self.settings = settings
        self.length = timedelta(minutes=settings.window_minutes)
        # (kind, key) -> windows, oldest first; the last one is the current window.
        self._windows: dict[tuple[str, str], deque[_Window]] = defaultdict(
            lambda: deque(maxlen=settings.baseline_windows + 1))
        self._raised: dict[tuple[str, str], datetime] = {}  # last window each source or label alerted in

    def _window_start(self, now: datetime) -> datetime:
        epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
        return epoch + ((now - epoch) // self.length) * self.length

    def observe(self, docs: list[ClassifiedDocument], now: datetime) -> list[Alert]:
        """Count a batch of indexed documents; the alerts it raises (each at most once per window)."""
        start = self._window_start(now)
        touched = set()
        for doc in docs:
            keys = [("source", doc.document.source)] + [("label", label) for label in doc.scores]
            for kind, key in keys:
                windows = self._windows[(kind, key)]
                if not windows or windows[-1].start != start:
                    windows.append(_Window(start))
                current = windows[-1]
                current.documents += 1
                current.flags += int(doc.flagged if kind == "source" else key in doc.labels)
                touched.add((kind, key))
        return [alert for kind, key in sorted(touched) if (alert := self._check(kind, key, now))]

    def _check(self, kind: str, key: str, now: datetime) -> Alert | None:
        *earlier, current = self._windows[(kind, key)]
        if current.flags < self.settings.min_flags:
            return None
        baseline_docs = sum(w.documents for w in earlier)
        if not baseline_docs:  # a spike is relative to history; new sources have their own saved search
            return None
        baseline_rate = sum(w.flags for w in earlier) / baseline_docs
        rate = current.flags / current.documents
        if rate < self.settings.spike_factor * baseline_rate:
            return None
        if self._raised.get((kind, key)) == current.start:
            return None
        self._raised[(kind, key)] = current.start
        alert_id = hashlib.sha256(f"{kind}\n{key}\n{current.start.isoformat()}".encode()).hexdigest()[:32]
        ratio = rate / baseline_rate if baseline_rate else None
        versus = f"{ratio:.1f}x the baseline {baseline_rate:.1%}" if ratio else "none flagged before"
        message = (f"flag-rate spike for {kind} {key!r}: {current.flags} of {current.documents} documents flagged "
                   f"({rate:.1%}) since {current.start:%Y-%m-%d %H:%M} UTC, {versus}")
        log.warning("ALERT %s", message)
        return Alert(id=alert_id, kind=kind, key=key, window_start=current.start.isoformat(),
                     window_end=(current.start + self.length).isoformat(), documents=current.documents,
                     flags=current.flags, flag_rate=round(rate, 4), baseline_rate=round(baseline_rate, 4),
                     ratio=round(ratio, 2) if ratio else None, message=message, created_at=now.isoformat())
