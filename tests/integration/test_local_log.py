"""The embedded log across processes and group members (what Kafka gives the distributed setup)."""
from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

from streams.config import TopicSettings
from streams.transports.local import LocalConsumer, LocalLogTransport

# Group membership on a short lease, so that expiry and rebalancing happen within a test.
LEASE_S = 1.0


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


def embedded_log(tmp_path, partitions: int) -> LocalLogTransport:
    transport = LocalLogTransport(tmp_path / "log.sqlite", TopicSettings(partitions=partitions), lease_s=LEASE_S)
    transport.ensure_topics(["t"])
    return transport


def produce(transport, numbers) -> None:
    producer = transport.producer()
    for i in numbers:
        producer.send("t", str(i).encode(), key=str(i).encode())
    producer.flush()


def numbers(records) -> list[int]:
    return sorted(int(r.value) for r in records)


def settle(members, got: list, shares: list[int]) -> list[int]:
    """Run the members as the stage runner does (poll, then commit) until they hold `shares` partitions
    or ten lease periods pass; returns what they hold, and adds what they read to `got`."""
    deadline = time.monotonic() + 10 * LEASE_S
    while True:
        for member in members:
            got += member.poll(3, 0.02)
            member.commit()
        held = sorted(len(member.assignment()) for member in members)
        if held == shares or time.monotonic() > deadline:
            return held


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
    produce(transport, range(30))
    first = transport.consumer(["t"], "g")
    taken = read_all(first)
    first.commit()
    second = transport.consumer(["t"], "g")
    assert read_all(second) == []  # every partition is leased to the first member, which is not polling
    produce(transport, range(30, 40))
    first.close()  # leaves the group; nothing after its last commit is lost
    rest = read_all(second)
    assert numbers(taken + rest) == list(range(40))
    second.close()


def test_a_batch_longer_than_the_lease_keeps_its_partitions(tmp_path):
    transport = embedded_log(tmp_path, partitions=2)
    produce(transport, range(20))
    slow = transport.consumer(["t"], "g")
    got = slow.poll(1000, 0.5)
    other = transport.consumer(["t"], "g")
    meanwhile: list = []
    until = time.monotonic() + 3 * LEASE_S  # the slow member is busy with its batch: no poll, no commit
    while time.monotonic() < until:
        meanwhile += other.poll(1000, 0.05)
    slow.commit()
    assert len(got) == 20 and meanwhile == []  # its leases were renewed all along
    produce(transport, range(20, 40))
    assert settle([slow, other], got, [1, 1]) == [1, 1]  # then, between batches, it gives one up
    got += read_all(slow) + read_all(other)
    assert numbers(got) == list(range(40))  # nothing delivered twice, nothing missing
    slow.close()
    other.close()


def test_live_members_share_the_partitions_evenly(tmp_path):
    transport = embedded_log(tmp_path, partitions=4)
    produce(transport, range(40))
    got: list = []
    members = [transport.consumer(["t"], "g")]
    assert settle(members, got, [4]) == [4]
    members.append(transport.consumer(["t"], "g"))
    assert settle(members, got, [2, 2]) == [2, 2]
    members.append(transport.consumer(["t"], "g"))
    assert settle(members, got, [1, 1, 2]) == [1, 1, 2]
    members.pop(0).close()
    assert settle(members, got, [2, 2]) == [2, 2]
    for member in members:
        got += read_all(member)
    assert numbers(got) == list(range(40))  # partitions moved only between batches: nothing redelivered
    for member in members:
        member.close()


def _consume_then_hang(path: str, ready) -> None:
    consumer = LocalLogTransport(Path(path), TopicSettings(partitions=4), lease_s=LEASE_S).consumer(["t"], "g")
    committed = consumer.poll(10, 0.5)
    consumer.commit()
    consumer.poll(10, 0.5)  # in hand, never committed
    ready.send([int(r.value) for r in committed])
    time.sleep(60)


def test_a_killed_member_loses_its_partitions_and_the_others_resume_from_its_commit(tmp_path):
    transport = embedded_log(tmp_path, partitions=4)
    produce(transport, range(20))
    context = multiprocessing.get_context("spawn")
    ready, child_end = context.Pipe()
    killed = context.Process(target=_consume_then_hang, args=(str(tmp_path / "log.sqlite"), child_end))
    killed.start()
    try:
        assert ready.poll(30)
        committed = ready.recv()
    finally:
        os.kill(killed.pid, signal.SIGKILL)  # its heartbeat dies with it; no goodbye
        killed.join()
    survivor = transport.consumer(["t"], "g")
    got: list = []
    assert settle([survivor], got, [4]) == [4]  # once the dead member's leases expired
    got += read_all(survivor)
    assert len(committed) == 10 and sorted(committed + numbers(got)) == list(range(20))  # its batch in hand is redone
    survivor.close()


def test_a_member_whose_lease_lapsed_cannot_commit_over_the_new_holder(tmp_path):
    transport = embedded_log(tmp_path, partitions=2)
    produce(transport, range(10))
    # A heartbeat too slow for the lease: as if the process had been stopped.
    lapsed = LocalConsumer(transport.path, ["t"], "g", 2, lease_s=LEASE_S, heartbeat_s=60.0)
    assert len(lapsed.poll(1000, 0.5)) == 10
    time.sleep(1.5 * LEASE_S)
    holder = transport.consumer(["t"], "g")
    assert numbers(read_all(holder)) == list(range(10))  # redone from the last commit (none)
    holder.commit()
    produce(transport, range(10, 20))
    assert numbers(read_all(holder)) == list(range(10, 20))
    holder.commit()
    lapsed.commit()  # refused: it would move the group back to offset 10
    assert lapsed.assignment() == set() and read_all(lapsed) == []
    holder.close()
    after = transport.consumer(["t"], "g")
    assert read_all(after) == []  # the holder's progress stands
    after.close()
    lapsed.close()
