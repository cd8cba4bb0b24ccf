"""One contract for every transport: the embedded log and Kafka (tansu) must behave alike."""
from __future__ import annotations

import pytest

from streams.transports import open_transport

pytestmark = pytest.mark.integration


def consume_all(consumer, expected: int, rounds: int = 40) -> list:
    got = []
    for _ in range(rounds):
        got += consumer.poll(100, 0.5)
        if len(got) >= expected:
            break
    return got


@pytest.fixture
def transport(backend_settings):
    transport = open_transport(backend_settings)
    transport.ensure_topics([backend_settings.topics.raw])
    yield transport
    transport.close()


def test_produce_consume_commit(transport, backend_settings):
    topic = backend_settings.topics.raw
    producer = transport.producer()
    for i in range(20):
        producer.send(topic, f"m{i}".encode(), key=f"k{i % 5}".encode())
    producer.flush()
    consumer = transport.consumer([topic], "g1")
    got = consume_all(consumer, 20)
    assert sorted(r.value for r in got) == sorted(f"m{i}".encode() for i in range(20))
    # Same key, same partition, in order.
    by_key = {}
    for r in got:
        by_key.setdefault(r.key, set()).add(r.partition)
    assert all(len(parts) == 1 for parts in by_key.values())
    consumer.commit()
    assert consumer.lag() == 0
    consumer.close()
    producer.close()


def test_resume_from_committed_offset_after_restart(transport, backend_settings):
    topic = backend_settings.topics.raw
    producer = transport.producer()
    for i in range(10):
        producer.send(topic, f"a{i}".encode(), key=b"same")
    producer.flush()
    first = transport.consumer([topic], "g2")
    assert len(consume_all(first, 10)) == 10
    first.commit()
    first.close()
    for i in range(5):
        producer.send(topic, f"b{i}".encode(), key=b"same")
    producer.flush()
    second = transport.consumer([topic], "g2")
    got = consume_all(second, 5)
    assert [r.value for r in got] == [f"b{i}".encode() for i in range(5)]
    second.close()
    producer.close()


def test_uncommitted_batch_is_redelivered_after_crash(transport, backend_settings):
    topic = backend_settings.topics.raw
    producer = transport.producer()
    for i in range(6):
        producer.send(topic, f"c{i}".encode(), key=b"k")
    producer.flush()
    crashed = transport.consumer([topic], "g3")
    assert len(consume_all(crashed, 6)) == 6
    crashed.close()  # no commit: as if the process died mid-batch
    again = transport.consumer([topic], "g3")
    assert [r.value for r in consume_all(again, 6)] == [f"c{i}".encode() for i in range(6)]
    again.close()
    producer.close()


def test_groups_are_independent(transport, backend_settings):
    topic = backend_settings.topics.raw
    producer = transport.producer()
    producer.send(topic, b"x", key=b"k")
    producer.flush()
    for group in ("index", "audit"):
        consumer = transport.consumer([topic], group)
        assert [r.value for r in consume_all(consumer, 1)] == [b"x"]
        consumer.commit()
        consumer.close()
    producer.close()


def test_committed_positions_and_fetching_one_record_by_its_offset(transport, backend_settings):
    topic = backend_settings.topics.raw
    producer = transport.producer()
    for i in range(6):
        producer.send(topic, f"v{i}".encode(), key=b"same")  # one partition
    producer.flush()
    assert transport.committed("never-ran", topic) == {}
    consumer = transport.consumer([topic], "g-committed")
    got = consume_all(consumer, 6)
    consumer.commit()
    consumer.close()
    [partition] = {r.partition for r in got}
    committed = transport.committed("g-committed", topic)
    assert committed.pop(partition) == max(r.offset for r in got) + 1
    assert set(committed.values()) <= {0}  # partitions with nothing read may be committed at their start
    third = sorted(got, key=lambda r: r.offset)[2]
    assert transport.fetch(topic, partition, third.offset) == third.value
    assert transport.fetch(topic, partition, 10_000) is None
