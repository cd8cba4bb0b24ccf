"""The embedded log across processes and group members (what Kafka gives the distributed setup)."""
from __future__ import annotations

import multiprocessing
from pathlib import Path

from streams.config import TopicSettings
from streams.transports.local import LocalLogTransport


def _produce(path: str, name: str, count: int) -> None:
    producer = LocalLogTransport(Path(path), TopicSettings()).producer()
    for i in range(count):
        producer.send("t", f"{name}-{i}".encode(), key=f"{name}-{i}".encode())
        if i % 10 == 0:
            producer.flush()
    producer.close()


def read_all(consumer, rounds=10):
    got = []
    for _ in range(rounds):
        got += consumer.poll(1000, 0.05)
    return got


def test_several_processes_produce_into_one_log(tmp_path):
    path = str(tmp_path / "log.sqlite")
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_produce, args=(path, f"p{n}", 200)) for n in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
        assert worker.exitcode == 0
    consumer = LocalLogTransport(Path(path), TopicSettings()).consumer(["t"], "g")
    records = read_all(consumer)
    assert len(records) == 600 and len({r.value for r in records}) == 600
    offsets = {}
    for r in records:
        offsets.setdefault(r.partition, []).append(r.offset)
    assert all(sorted(o) == list(range(len(o))) for o in offsets.values())  # dense, unique offsets per partition


def test_group_members_share_partitions_and_take_over_from_a_stopped_member(tmp_path):
    transport = LocalLogTransport(tmp_path / "log.sqlite", TopicSettings(partitions=3))
    transport.ensure_topics(["t"])
    producer = transport.producer()
    for i in range(30):
        producer.send("t", str(i).encode(), key=str(i).encode())
    producer.flush()
    first = transport.consumer(["t"], "g")
    taken = read_all(first)
    first.commit()
    second = transport.consumer(["t"], "g")
    assert read_all(second) == []  # every partition is leased to the first member
    for i in range(30, 40):
        producer.send("t", str(i).encode(), key=str(i).encode())
    producer.flush()
    first.close()  # leaves the group; nothing after its last commit is lost
    rest = read_all(second)
    assert sorted(int(r.value) for r in taken + rest) == list(range(40))
    second.close()
