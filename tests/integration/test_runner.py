"""The stage runner on both transports: poison messages, transient failures, crashes, shutdown."""
from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest
from kafka import KafkaProducer

from streams.errors import TransientError
from streams.runner import Output, Result, Stage, StageRunner
from streams.schemas import DeadLetter, RawDocument
from streams.transports import open_transport
from tests.factories import raw_document

pytestmark = pytest.mark.integration


class EchoStage(Stage[RawDocument]):
    """Copies titles to the output topic; can be told to fail in the ways real stages fail."""
    name = "echo"
    input_schema = RawDocument

    def __init__(self, input_topic, output_topic, transient_failures=0, bad_title=None, crash_title=None):
        self.input_topic, self.output_topic = input_topic, output_topic
        self.transient_failures = transient_failures
        self.bad_title = bad_title
        self.crash_title = crash_title  # a message that makes process() raise, as a bug would
        self.calls = 0

    def process(self, items, stats: Counter):
        self.calls += 1
        if self.transient_failures:
            self.transient_failures -= 1
            raise TransientError("index down")
        if any(doc.title == self.crash_title for doc in items):
            "\u00e9".encode("ascii")  # UnicodeEncodeError, as classify once raised on a non-ASCII id
        return [Result(error=ValueError("cannot handle this one")) if doc.title == self.bad_title
                else Result(outputs=[Output(self.output_topic, doc.title.encode(), doc.id.encode())]) for doc in items]


def drain(transport, topic, group="reader", expected=None):
    consumer = transport.consumer([topic], group)
    got = []
    for _ in range(30):
        got += consumer.poll(500, 0.5)
        if expected is not None and len(got) >= expected:
            break
    consumer.close()
    return got


@pytest.fixture
def transport(backend_settings):
    t = backend_settings.topics
    transport = open_transport(backend_settings)
    transport.ensure_topics([t.raw, t.classified, t.dlq])
    return transport


def publish(transport, topic, values):
    producer = transport.producer()
    for value in values:
        producer.send(topic, value)
    producer.flush()
    producer.close()


def runner_for(stage, transport, settings):
    return StageRunner(stage, transport.consumer([stage.input_topic], "stage"), transport.producer(),
                       settings.topics.dlq, settings.stage)


def test_poison_and_failing_messages_go_to_the_dead_letter_topic(transport, backend_settings):
    t = backend_settings.topics
    docs = [raw_document(f"https://e.org/{i}", f"text {i}", title=f"t{i}") for i in range(5)]
    publish(transport, t.raw, [d.to_bytes() for d in docs] + [b"not json", b'{"schema": "vigil.raw/1"}'])
    stage = EchoStage(t.raw, t.classified, bad_title="t3")
    stats = runner_for(stage, transport, backend_settings).run(until_drained=True)
    assert stats["processed"] == 4 and stats["dead_lettered"] == 3
    assert sorted(r.value for r in drain(transport, t.classified, expected=4)) == [b"t0", b"t1", b"t2", b"t4"]
    letters = [DeadLetter.from_bytes(r.value) for r in drain(transport, t.dlq, expected=3)]
    reasons = sorted(letter.error for letter in letters)
    assert any("invalid message" in r and "Invalid JSON" in r for r in reasons)
    assert any("id: Field required" in r for r in reasons)  # names the missing field
    failing = next(letter for letter in letters if "cannot handle" in letter.error)
    assert failing.attempts == backend_settings.stage.max_attempts and failing.stage == "echo"
    assert RawDocument.from_bytes(failing.original).title == "t3"  # the original bytes are kept


def test_transient_errors_are_retried_without_skipping(transport, backend_settings):
    t = backend_settings.topics
    docs = [raw_document(f"https://e.org/{i}", f"text {i}", title=f"t{i}") for i in range(3)]
    publish(transport, t.raw, [d.to_bytes() for d in docs])
    stage = EchoStage(t.raw, t.classified, transient_failures=3)
    stats = runner_for(stage, transport, backend_settings).run(until_drained=True)
    assert stats["transient_errors"] == 3 and stats["processed"] == 3 and stats["dead_lettered"] == 0
    assert sorted(r.value for r in drain(transport, t.classified, expected=3)) == [b"t0", b"t1", b"t2"]


def test_stop_during_an_outage_commits_nothing_and_the_batch_is_redelivered(transport, backend_settings):
    t = backend_settings.topics
    publish(transport, t.raw, [raw_document("https://e.org/x", "x", title="tx").to_bytes()])
    stage = EchoStage(t.raw, t.classified, transient_failures=10**6)
    runner = runner_for(stage, transport, backend_settings)
    original_process = stage.process

    def stop_after_some_failures(items, stats):
        if stage.calls >= 3:
            runner.stop.set()  # as SIGTERM would
        return original_process(items, stats)
    stage.process = stop_after_some_failures
    runner.run()
    assert runner.stats["processed"] == 0
    healthy = EchoStage(t.raw, t.classified)
    assert runner_for(healthy, transport, backend_settings).run(until_drained=True)["processed"] == 1


def test_a_message_that_makes_the_stage_raise_is_dead_lettered_and_the_stage_goes_on(transport, backend_settings):
    t = backend_settings.topics
    docs = [raw_document(f"https://e.org/{i}", f"text {i}", title=f"t{i}") for i in range(5)]
    publish(transport, t.raw, [d.to_bytes() for d in docs])
    stats = runner_for(EchoStage(t.raw, t.classified, crash_title="t2"), transport, backend_settings).run(
        until_drained=True)
    assert stats["processed"] == 4 and stats["dead_lettered"] == 1 and stats["batches_split"] >= 1
    assert sorted(r.value for r in drain(transport, t.classified, expected=4)) == [b"t0", b"t1", b"t3", b"t4"]
    [letter] = [DeadLetter.from_bytes(r.value) for r in drain(transport, t.dlq, expected=1)]
    assert letter.error.startswith("UnicodeEncodeError") and letter.attempts == backend_settings.stage.max_attempts
    assert RawDocument.from_bytes(letter.original).title == "t2"


def test_ids_that_are_not_content_derived_and_tombstones_are_dead_lettered(transport, backend_settings):
    t = backend_settings.topics
    good = raw_document("https://e.org/ok", "fine", title="ok")
    foreign = good.model_dump(mode="json", by_alias=True) | {"id": "ид-документа-0123456789abcdef01234"}
    publish(transport, t.raw, [good.to_bytes(), json.dumps(foreign).encode()])
    if backend_settings.kafka.bootstrap:  # only Kafka has records without a value
        producer = KafkaProducer(bootstrap_servers=backend_settings.kafka.bootstrap)
        producer.send(t.raw, value=None, key=b"gone")
        producer.flush()
        producer.close()
    stats = runner_for(EchoStage(t.raw, t.classified), transport, backend_settings).run(until_drained=True)
    tombstones = 1 if backend_settings.kafka.bootstrap else 0
    assert stats["processed"] == 1 and stats["dead_lettered"] == 1 + tombstones
    letters = [DeadLetter.from_bytes(r.value) for r in drain(transport, t.dlq, expected=1 + tombstones)]
    assert any("id: String should match pattern" in letter.error for letter in letters)
    assert sum("tombstone" in letter.error and letter.original == b"" for letter in letters) == tombstones


def publish_large(transport, settings, topic, values):
    """Messages over the clients' default 1 MB limit, as a producer configured for them would send."""
    if not settings.kafka.bootstrap:
        return publish(transport, topic, values)
    producer = KafkaProducer(bootstrap_servers=settings.kafka.bootstrap, max_request_size=8_000_000)
    for value in values:
        producer.send(topic, value=value)
    producer.flush()
    producer.close()


def test_letters_always_fit_and_outputs_the_broker_refuses_are_dead_lettered_once(transport, backend_settings):
    t = backend_settings.topics
    docs = [raw_document(f"https://e.org/{i}", f"text {i}", title=f"t{i}") for i in range(3)]
    junk = b"<" * 800_000  # invalid, and its letter (base64 adds a third) is over the 1 MB limit
    huge_title = raw_document("https://e.org/huge", "huge", title="T" * 1_200_000)  # its output is over it
    publish_large(transport, backend_settings, t.raw, [d.to_bytes() for d in docs] + [junk, huge_title.to_bytes()])
    stats = runner_for(EchoStage(t.raw, t.classified), transport, backend_settings).run(until_drained=True)

    on_kafka = bool(backend_settings.kafka.bootstrap)  # the embedded log has no size limit
    outputs = drain(transport, t.classified, expected=3 + (not on_kafka))
    assert sorted(r.value[:2] for r in outputs) == [b"T" * 2] * (not on_kafka) + [b"t0", b"t1", b"t2"]
    letters = drain(transport, t.dlq, expected=1 + on_kafka)
    assert len(letters) == 1 + on_kafka and stats["transient_errors"] == 0  # once each, never retried as transient
    assert all(len(r.value) <= backend_settings.stage.dead_letter_max_bytes for r in letters)
    by_error = {DeadLetter.from_bytes(r.value).error.split(":")[0]: DeadLetter.from_bytes(r.value) for r in letters}
    cut = by_error["invalid message"]
    assert cut.truncated and cut.original_size == len(junk) and junk.startswith(cut.original)
    assert cut.original_sha256 == hashlib.sha256(junk).hexdigest() and cut.topic == t.raw
    if on_kafka:
        refused = by_error["output refused by the broker"]
        assert "MessageSizeTooLarge" in refused.error and stats["outputs_refused"] == 1
