"""The stage runner: consume a batch, process it, produce or write, and only then commit.

Transient failures (broker or index down) are retried with backoff without skipping or
committing anything; a message that fails validation or keeps failing goes to the
dead-letter topic with its error, and the stage moves on.
"""
from __future__ import annotations

import abc
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from streams.config import StageSettings
from streams.errors import DeliveryError, TransientError
from streams.metrics import BATCH_SECONDS
from streams.schemas import DeadLetter, Message, MessageError
from streams.transports.base import Consumer, Producer, Record

log = logging.getLogger(__name__)

In = TypeVar("In", bound=Message)
S = TypeVar("S", bound="Stage")


@dataclass
class Output:
    topic: str
    value: bytes
    key: bytes | None = None


@dataclass
class Result:
    """What became of one input message: outputs to produce, or the error that stopped it."""
    outputs: list[Output] = field(default_factory=list)
    error: Exception | None = None


class Stage(abc.ABC, Generic[In]):
    """One step between two topics (or a topic and a store)."""

    name: str
    input_topic: str
    input_schema: type[In]

    @abc.abstractmethod
    def process(self, items: list[In], stats: Counter) -> list[Result]:
        """One Result per item, in order. Raise TransientError when nothing can be done now."""

    def close(self) -> None:
        """Let go of what the stage holds (its runner calls this when it stops)."""


class StageRunner(Generic[S]):
    """Runs one stage over its input topic: StageRunner[ClassifyStage] is the classify stage's runner."""

    def __init__(self, stage: S, consumer: Consumer, producer: Producer, dlq_topic: str,
                 settings: StageSettings, stop: threading.Event | None = None):
        self.stage = stage
        self.consumer = consumer
        self.producer = producer
        self.dlq_topic = dlq_topic
        self.settings = settings
        self.stop = stop or threading.Event()
        self.stats: Counter = Counter()
        self.last_lag: int | None = None  # read by the metrics endpoint from another thread

    def run(self, until_drained: bool = False, upstream_done: threading.Event | None = None,
            idle_limit_s: float = 60.0) -> Counter:
        """Run until stopped; with until_drained, until the input is consumed to its end (once
        upstream_done is set, when the stage feeding the input runs at the same time)."""
        idle_since = time.monotonic()
        try:
            while not self.stop.is_set():
                records = self._retrying("poll", lambda: self.consumer.poll(
                    self.settings.batch_size, self.settings.poll_timeout_s))
                if records is None:
                    break
                if records:
                    started = time.monotonic()
                    if not self._handle(records):
                        break  # stopped during a retry: nothing committed, the batch is redelivered
                    BATCH_SECONDS.labels(self.stage.name).observe(time.monotonic() - started)
                    self.last_lag = self.consumer.lag()
                    idle_since = time.monotonic()
                    continue
                self.last_lag = self.consumer.lag()
                if until_drained:
                    if upstream_done is not None and not upstream_done.is_set():
                        idle_since = time.monotonic()
                        continue
                    if self.last_lag == 0:
                        break
                    if time.monotonic() - idle_since > idle_limit_s:
                        log.warning("%s: no messages and no partition assignment for %.0fs; stopping",
                                    self.stage.name, idle_limit_s)
                        break
        finally:
            try:
                self.consumer.close()
            finally:
                self.stage.close()
        return self.stats

    def _handle(self, records: list[Record]) -> bool:
        self.stats["consumed"] += len(records)
        self.stats["batches"] += 1
        valid: list[tuple[Record, Message]] = []
        dead: list[tuple[Record, str, int]] = []
        for record in records:
            if record.value is None:
                dead.append((record, "invalid message: a tombstone (a record with no value); stages take documents",
                             1))
                continue
            try:
                valid.append((record, self.stage.input_schema.from_bytes(record.value)))
            except MessageError as exc:
                dead.append((record, f"invalid message: {exc}", 1))

        results = self._process([m for _, m in valid])
        if results is None:
            return False
        outputs: list[tuple[Record, Output]] = []
        for (record, message), result in zip(valid, results):
            attempts = 1
            while result.error is not None and attempts < self.settings.max_attempts:
                attempts += 1
                self.stats["item_retries"] += 1
                retried = self._process([message])
                if retried is None:
                    return False
                result = retried[0]
            if result.error is not None:
                dead.append((record, f"{type(result.error).__name__}: {result.error}", attempts))
            else:
                outputs.extend((record, out) for out in result.outputs)
                self.stats["processed"] += 1
        return self._deliver(outputs, dead)

    def _letter(self, record: Record, error: str, attempts: int) -> Output:
        letter = DeadLetter.of(record.value, topic=record.topic, partition=record.partition, offset=record.offset,
                               stage=self.stage.name, error=error, attempts=attempts,
                               max_bytes=self.settings.dead_letter_max_bytes)
        log.warning("%s: dead-lettered %s[%d]@%d: %s", self.stage.name, record.topic, record.partition,
                    record.offset, letter.error[:500])
        self.stats["dead_lettered"] += 1
        return Output(self.dlq_topic, letter.to_bytes(), record.key)

    def _deliver(self, outputs: list[tuple[Record, Output]], dead: list[tuple[Record, str, int]]) -> bool:
        """Produce the outputs and dead letters, then commit. What the broker stored is never sent again, so a
        retry duplicates nothing; an input whose output the broker refuses for good is dead-lettered instead."""
        pending = outputs + [(record, self._letter(record, error, attempts)) for record, error, attempts in dead]
        lettered = {id(record) for record, _, _ in dead}

        def refused(record: Record, out: Output, error: Exception) -> list[tuple[Record, Output]]:
            if out.topic == self.dlq_topic:  # cannot happen while dead_letter_max_bytes is under the broker's limit
                log.error("%s: the broker refused the dead letter of %s[%d]@%d (%s); it stays on its topic only",
                          self.stage.name, record.topic, record.partition, record.offset, error)
                self.stats["dead_letters_refused"] += 1
                return []
            self.stats["outputs_refused"] += 1
            if id(record) in lettered:
                return []
            lettered.add(id(record))
            return [(record, self._letter(record, f"output refused by the broker: {type(error).__name__}: {error}",
                                          1))]

        def count_delivered(out: Output) -> None:
            self.stats["produced" if out.topic != self.dlq_topic else "letters_produced"] += 1

        def attempt() -> bool:
            nonlocal pending
            while pending:
                for _, out in pending:
                    self.producer.send(out.topic, out.value, key=out.key)
                try:
                    self.producer.flush()
                except DeliveryError as exc:
                    still: list[tuple[Record, Output]] = []
                    for position, (record, out) in enumerate(pending):
                        if position in exc.permanent:
                            still.extend(refused(record, out, exc.undelivered[position]))
                        elif position in exc.undelivered:
                            still.append((record, out))
                        else:
                            count_delivered(out)
                    pending = still
                    if isinstance(exc, TransientError):
                        raise
                    continue  # only refusals: their letters go out at once
                for _, out in pending:
                    count_delivered(out)
                pending = []
            self.consumer.commit()
            return True

        return self._retrying("deliver", attempt) is not None

    def _process(self, messages: list[Message]) -> list[Result] | None:
        """The stage's results, retried while it is transiently down (None: stopped meanwhile). Any other
        exception is one message's fault: the batch is processed again one message at a time, and a message
        that raises gets the exception as its error (retried, then dead-lettered), so the stage goes on."""
        try:
            return self._retrying("process", lambda: self.stage.process(messages, self.stats))
        except Exception as exc:  # a bug or a message no stage can take: never a reason to stop the stage
            if len(messages) == 1:
                return [Result(error=exc)]
            log.warning("%s: a batch of %d failed (%s: %s); processing its messages one by one", self.stage.name,
                        len(messages), type(exc).__name__, exc)
            self.stats["batches_split"] += 1
            results: list[Result] = []
            for message in messages:
                one = self._process([message])
                if one is None:
                    return None
                results.extend(one)
            return results

    def _retrying(self, what: str, action):
        """Run action until it succeeds, backing off on TransientError; None if stopped meanwhile."""
        delay = self.settings.backoff_initial_s
        while True:
            try:
                return action()
            except TransientError as exc:
                self.stats["transient_errors"] += 1
                log.warning("%s: %s failed (%s); retrying in %.1fs", self.stage.name, what, exc, delay)
                if self.stop.wait(delay):
                    return None
                delay = min(delay * 2, self.settings.backoff_max_s)
