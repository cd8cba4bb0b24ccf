"""The embedded local log: Kafka's model (topics, partitions, offsets, groups) in one SQLite file.

Durable (WAL, synchronous=FULL), safe for several processes on one machine. Members of a
consumer group share partitions through leases that expire, so a crashed member's
partitions pass to another one, which resumes from the committed offset.
"""
from __future__ import annotations

import json
import sqlite3
import time
import uuid
from pathlib import Path

from streams import sqlite_db
from streams.config import TopicSettings
from streams.transports.base import Consumer, Producer, Record, Transport, partition_for

SCHEMA = """
CREATE TABLE IF NOT EXISTS topics (topic TEXT PRIMARY KEY, partitions INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    key BLOB, value BLOB NOT NULL, headers TEXT, ts REAL NOT NULL,
    PRIMARY KEY (topic, partition, offset)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS commits (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, offset INTEGER NOT NULL,
    PRIMARY KEY (grp, topic, partition));
CREATE TABLE IF NOT EXISTS leases (
    grp TEXT NOT NULL, topic TEXT NOT NULL, partition INTEGER NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL,
    PRIMARY KEY (grp, topic, partition));
"""


def connect(path: Path) -> sqlite3.Connection:
    return sqlite_db.connect(path, SCHEMA, synchronous_full=True)


def _partitions(conn: sqlite3.Connection, topic: str, default: int) -> int:
    row = conn.execute("SELECT partitions FROM topics WHERE topic = ?", (topic,)).fetchone()
    if row:
        return row[0]
    conn.execute("INSERT OR IGNORE INTO topics VALUES (?, ?)", (topic, default))
    return default


class LocalProducer(Producer):
    def __init__(self, path: Path, default_partitions: int):
        self._conn = connect(path)
        self._default_partitions = default_partitions
        self._pending: list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]] = []
        self._round_robin = 0

    def send(self, topic, value, key=None, headers=None):
        self._pending.append((topic, key, value, headers or []))

    def flush(self, timeout_s=None):
        if not self._pending:
            return
        now = time.time()
        with sqlite_db.transaction(self._conn, "local log") as conn:
            next_offset: dict[tuple[str, int], int] = {}
            for topic, key, value, headers in self._pending:
                partitions = _partitions(conn, topic, self._default_partitions)
                self._round_robin += 1
                partition = partition_for(key, partitions, self._round_robin)
                tp = (topic, partition)
                if tp not in next_offset:
                    row = conn.execute(
                        "SELECT COALESCE(MAX(offset) + 1, 0) FROM messages WHERE topic = ? AND partition = ?", tp
                    ).fetchone()
                    next_offset[tp] = row[0]
                conn.execute(
                    "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (topic, partition, next_offset[tp], key, value,
                     json.dumps([(k, v.decode("latin-1")) for k, v in headers]) if headers else None, now),
                )
                next_offset[tp] += 1
        self._pending.clear()


class LocalConsumer(Consumer):
    def __init__(self, path: Path, topics: list[str], group: str, default_partitions: int, lease_s: float = 10.0):
        self._conn = connect(path)
        self._topics = topics
        self._group = group
        self._default_partitions = default_partitions
        self._lease_s = lease_s
        self._member = uuid.uuid4().hex
        self._positions: dict[tuple[str, int], int] = {}
        self._polls = 0
        self._claimed_at = 0.0

    def _claim_partitions(self) -> None:
        """Renew our leases and take partitions that are free or whose holder stopped renewing."""
        now = time.time()
        with sqlite_db.transaction(self._conn, "local log") as conn:
            owned = {}
            for topic in self._topics:
                for partition in range(_partitions(conn, topic, self._default_partitions)):
                    row = conn.execute(
                        "SELECT member, expires FROM leases WHERE grp = ? AND topic = ? AND partition = ?",
                        (self._group, topic, partition),
                    ).fetchone()
                    if row and row[0] != self._member and row[1] > now:
                        continue
                    conn.execute(
                        "INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?)",
                        (self._group, topic, partition, self._member, now + self._lease_s),
                    )
                    tp = (topic, partition)
                    if tp in self._positions and row and row[0] == self._member:
                        owned[tp] = self._positions[tp]
                    else:  # newly taken: start from the group's committed offset
                        committed = conn.execute(
                            "SELECT offset FROM commits WHERE grp = ? AND topic = ? AND partition = ?",
                            (self._group, topic, partition),
                        ).fetchone()
                        owned[tp] = committed[0] if committed else 0
            self._positions = owned

    def poll(self, max_records, timeout_s):
        deadline = time.monotonic() + timeout_s
        while True:
            # Leases are renewed every third of their life (a write, so not on every poll); a member
            # without partitions looks for free ones each time.
            if not self._positions or time.monotonic() - self._claimed_at > self._lease_s / 3:
                self._claim_partitions()
                self._claimed_at = time.monotonic()
            records: list[Record] = []
            owned = list(self._positions.items())
            self._polls += 1
            shift = self._polls % len(owned) if owned else 0
            for (topic, partition), position in owned[shift:] + owned[:shift]:  # rotate: no partition starves
                rows = self._conn.execute(
                    "SELECT offset, key, value, headers FROM messages"
                    " WHERE topic = ? AND partition = ? AND offset >= ? "
                    "ORDER BY offset LIMIT ?",
                    (topic, partition, position, max_records - len(records)),
                ).fetchall()
                for offset, key, value, headers in rows:
                    decoded = [(k, v.encode("latin-1")) for k, v in json.loads(headers)] if headers else []
                    records.append(Record(topic, partition, offset, key, value, decoded))
                if rows:
                    self._positions[(topic, partition)] = rows[-1][0] + 1
                if len(records) >= max_records:
                    break
            if records or time.monotonic() >= deadline:
                return records
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def commit(self):
        with sqlite_db.transaction(self._conn, "local log") as conn:
            for (topic, partition), position in self._positions.items():
                holder = conn.execute(
                    "SELECT member FROM leases WHERE grp = ? AND topic = ? AND partition = ?",
                    (self._group, topic, partition),
                ).fetchone()
                if not holder or holder[0] != self._member:
                    continue  # fenced: the partition moved to another member, whose position wins
                conn.execute(
                    "INSERT OR REPLACE INTO commits VALUES (?, ?, ?, ?)", (self._group, topic, partition, position)
                )

    def lag(self):
        total = 0
        for (topic, partition), position in self._positions.items():
            end = self._conn.execute(
                "SELECT COALESCE(MAX(offset) + 1, 0) FROM messages WHERE topic = ? AND partition = ?",
                (topic, partition),
            ).fetchone()[0]
            total += max(0, end - position)
        return total if self._positions else None

    def close(self):
        with sqlite_db.transaction(self._conn, "local log") as conn:
            conn.execute("DELETE FROM leases WHERE grp = ? AND member = ?", (self._group, self._member))
        self._conn.close()


class LocalLogTransport(Transport):
    name = "local"

    def __init__(self, path: Path, topics: TopicSettings):
        self.path = Path(path)
        self._partitions = topics.partitions
        connect(self.path).close()

    def ensure_topics(self, topics):
        with sqlite_db.transaction(conn := connect(self.path), "local log"):
            for topic in topics:
                _partitions(conn, topic, self._partitions)
        conn.close()

    def producer(self):
        return LocalProducer(self.path, self._partitions)

    def consumer(self, topics, group):
        return LocalConsumer(self.path, topics, group, self._partitions)
