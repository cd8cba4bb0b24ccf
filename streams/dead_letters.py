"""Inspect the dead-letter topic and re-drive its messages to the topics they came from, after a fix.

Re-driving is at-least-once like everything else: a run that stops early re-sends some messages on
the next run, which the content-derived document ids make harmless. Messages that failed again after
a run started are left for the next run, so a stage that still fails cannot make a run loop. A letter
cut to fit the broker's limit is re-driven from its original, read back from its topic while retained.
"""
from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field

from streams.config import VigilSettings
from streams.schemas import DeadLetter, MessageError, utcnow
from streams.transports.base import Record, Transport

log = logging.getLogger(__name__)


@dataclass
class DeadLetterReport:
    by_stage_and_error: Counter = field(default_factory=Counter)  # (stage, error kind) -> distinct messages
    latest: deque[DeadLetter] = field(default_factory=lambda: deque(maxlen=10))
    unreadable: int = 0
    duplicates: int = 0  # letters for a message already counted: a stage that crashed before its commit
    redriven: int = 0  # letters `dlq redrive` has sent back already: not waiting any more

    def lines(self) -> list[str]:
        total = sum(self.by_stage_and_error.values())
        lines = [f"{total} dead letter{'s' if total != 1 else ''}"
                 + (f", {self.unreadable} unreadable" if self.unreadable else "")
                 + (f" ({self.duplicates} more letters repeat one of them, sent again after a crash)"
                    if self.duplicates else "")
                 + (f"; {self.redriven} re-driven earlier, not listed" if self.redriven else "")]
        for (stage, kind), count in self.by_stage_and_error.most_common():
            lines.append(f"  {count:6d}  {stage:10s} {kind}")
        if self.latest:
            lines.append("latest:")
        for letter in self.latest:
            lines.append(f"  {letter.failed_at:%Y-%m-%d %H:%M:%S} {letter.stage} {letter.topic}[{letter.partition}]"
                         f"@{letter.offset} after {letter.attempts} attempt(s): {letter.error[:200]}")
        return lines


def error_kind(error: str) -> str:
    """`RejectedError: Elasticsearch refused ...` -> `RejectedError`; `invalid message: ...` -> `invalid message`."""
    return error.split(":", 1)[0][:60]


def _records(transport: Transport, topic: str, group: str, settings: VigilSettings, stop: threading.Event,
             idle_limit_s: float = 30.0):
    """Batches from the topic until it is drained (or stopped); yields (consumer, records)."""
    consumer = transport.consumer([topic], group)
    idle_since = time.monotonic()
    try:
        while not stop.is_set():
            records = consumer.poll(settings.stage.batch_size, settings.stage.poll_timeout_s)
            if records:
                idle_since = time.monotonic()
                yield consumer, records
            elif consumer.lag() == 0 or time.monotonic() - idle_since > idle_limit_s:
                return
    finally:
        consumer.close()


def source_of(letter: DeadLetter) -> tuple:
    """The message a letter is about: a stage that crashed before committing letters it again."""
    return letter.stage, letter.topic, letter.partition, letter.offset, letter.original_sha256


def _letter(record: Record) -> DeadLetter | None:
    try:
        return DeadLetter.from_bytes(record.value)
    except MessageError as exc:
        log.warning("dead-letter topic %s[%d]@%d: not a dead letter (%s)", record.topic, record.partition,
                    record.offset, exc)
        return None


def inspect(settings: VigilSettings, transport: Transport, latest: int = 10,
            stop: threading.Event | None = None) -> DeadLetterReport:
    """Read the whole dead-letter topic without committing anything (a throwaway consumer group)."""
    report = DeadLetterReport(latest=deque(maxlen=latest))
    seen: set[tuple] = set()
    redriven_up_to: dict[str, dict[int, int]] = {}  # redrive group -> partition -> first offset not re-driven

    def redriven(record: Record, letter: DeadLetter) -> bool:
        for group in (_redrive_group(settings, None), _redrive_group(settings, letter.stage)):
            if group not in redriven_up_to:
                redriven_up_to[group] = transport.committed(group, settings.topics.dlq)
            if record.offset < redriven_up_to[group].get(record.partition, 0):
                return True
        return False

    group = f"{settings.stage.group_prefix}-dlq-inspect-{uuid.uuid4().hex[:8]}"
    for _, records in _records(transport, settings.topics.dlq, group, settings, stop or threading.Event()):
        for record in records:
            letter = _letter(record)
            if letter is None:
                report.unreadable += 1
                continue
            if redriven(record, letter):
                report.redriven += 1
                continue
            if source_of(letter) in seen:
                report.duplicates += 1
                continue
            seen.add(source_of(letter))
            report.by_stage_and_error[(letter.stage, error_kind(letter.error))] += 1
            report.latest.append(letter)
    return report


def _whole_original(transport: Transport, letter: DeadLetter) -> bytes | None:
    """The letter's original; a cut letter's is read back from its topic while retained, checked by its hash."""
    if not letter.truncated:
        return letter.original
    if letter.partition is None or letter.offset is None:
        return None
    original = transport.fetch(letter.topic, letter.partition, letter.offset)
    if original is None or hashlib.sha256(original).hexdigest() != letter.original_sha256:
        log.warning("the original of a cut dead letter, %s[%d]@%d, is no longer on its topic", letter.topic,
                    letter.partition, letter.offset)
        return None
    return original


def _redrive_group(settings: VigilSettings, stage: str | None) -> str:
    return f"{settings.stage.group_prefix}-dlq-redrive-{stage or 'all'}"


def redrive(settings: VigilSettings, transport: Transport, stage: str | None = None,
            stop: threading.Event | None = None) -> Counter:
    """Send each dead letter's original bytes back to its topic (only `stage`'s letters, if given).
    Each stage filter has its own consumer group, so re-driving one stage leaves the others' letters."""
    stop = stop or threading.Event()
    started = utcnow()
    counts: Counter = Counter()
    sent: set[tuple] = set()
    producer = transport.producer()
    try:
        group = _redrive_group(settings, stage)
        for consumer, records in _records(transport, settings.topics.dlq, group, settings, stop):
            for record in records:
                letter = _letter(record)
                if letter is None:
                    counts["unreadable"] += 1
                elif letter.failed_at >= started:
                    # Failed again during this run: stop without committing; the next run takes it from here.
                    producer.flush()
                    counts["left_for_next_run"] += 1
                    return counts
                elif stage and letter.stage != stage:
                    counts["other_stages"] += 1
                elif source_of(letter) in sent:
                    counts["repeated letters skipped"] += 1
                elif (original := _whole_original(transport, letter)) is None:
                    counts["not redriven: cut letters whose original is gone from its topic"] += 1
                else:
                    sent.add(source_of(letter))
                    producer.send(letter.topic, original, key=record.key)
                    counts[f"redriven to {letter.topic}"] += 1
            producer.flush()
            consumer.commit()
    finally:
        producer.close()
    return counts
