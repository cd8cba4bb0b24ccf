"""The transport interface every backend implements (and the contract tests check)."""
from __future__ import annotations

import abc
import zlib
from dataclasses import dataclass, field

from streams.closing import Closing


@dataclass(frozen=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


def partition_for(key: bytes | None, partitions: int, fallback: int = 0) -> int:
    """Stable key -> partition mapping for the embedded log (Kafka uses its own murmur2)."""
    if key is None:
        return fallback % partitions
    return zlib.crc32(key) % partitions


class Producer(abc.ABC):
    @abc.abstractmethod
    def send(self, topic: str, value: bytes, key: bytes | None = None,
             headers: list[tuple[str, bytes]] | None = None) -> None:
        """Queue one message; durable only after flush()."""

    @abc.abstractmethod
    def flush(self, timeout_s: float | None = None) -> None:
        """Block until every queued message is durably stored; raise TransientError if it cannot be."""

    def close(self) -> None:
        self.flush()


class Consumer(abc.ABC):
    @abc.abstractmethod
    def poll(self, max_records: int, timeout_s: float) -> list[Record]:
        """Next records after the last poll (at most max_records), waiting up to timeout_s."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Commit the positions of every record returned by poll so far."""

    @abc.abstractmethod
    def lag(self) -> int | None:
        """Messages not yet consumed on the assigned partitions; None while unknown."""

    @abc.abstractmethod
    def close(self) -> None:
        """Leave the group without committing (uncommitted records are redelivered)."""


class Transport(Closing, abc.ABC):
    """Producers and consumers of one backend; `with open_transport(settings) as transport:` closes it."""
    name: str

    @abc.abstractmethod
    def ensure_topics(self, topics: list[str]) -> None:
        """Create the topics with the configured partitions if they do not exist."""

    @abc.abstractmethod
    def producer(self) -> Producer: ...

    @abc.abstractmethod
    def consumer(self, topics: list[str], group: str) -> Consumer: ...

    @abc.abstractmethod
    def committed(self, group: str, topic: str) -> dict[int, int]:
        """The group's committed position per partition of the topic (the next offset it reads); partitions it
        never committed are left out. Reads only: joins no group."""

    @abc.abstractmethod
    def fetch(self, topic: str, partition: int, offset: int) -> bytes | None:
        """The value of one record, or None when it is gone (retention) or was never written."""
