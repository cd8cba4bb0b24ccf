"""The embedded local log: Kafka's model (topics, partitions, offsets, groups) in one SQLite file.

Durable (WAL, synchronous=FULL), safe for several processes on one machine. Live members of a consumer
group share its partitions evenly through leases that a heartbeat renews. A member that stops (killed, or
its process stopped) loses its leases when they expire, to another member, which resumes from the
committed offset.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from contextlib import closing
from pathlib import Path
from typing import Collection, Iterable

from streams import sqlite_db
from streams.config import TopicSettings
from streams.errors import TransientError
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
CREATE TABLE IF NOT EXISTS members (
    grp TEXT NOT NULL, member TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (grp, member));
"""
# How long a member that stops heartbeating keeps its partitions: the longest wait for a takeover.
LEASE_S = 10.0

log = logging.getLogger(__name__)


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
    """One member of a consumer group: it leases its share of the partitions, and a heartbeat thread renews the
    leases however long a batch takes. It gives partitions up only in poll, those with nothing uncommitted."""

    def __init__(self, path: Path, topics: list[str], group: str, default_partitions: int, lease_s: float = LEASE_S,
                 heartbeat_s: float | None = None):
        self._path = path
        self._conn = connect(path)
        self._topics = topics
        self._group = group
        self._default_partitions = default_partitions
        self._lease_s = lease_s
        self._heartbeat_s = heartbeat_s or lease_s / 3
        self._member = uuid.uuid4().hex
        self._positions: dict[tuple[str, int], int] = {}
        self._uncommitted: set[tuple[str, int]] = set()  # read from since the last commit: not to be given up
        self._polls = 0
        self._balanced_at = 0.0
        self._closing = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member holds now."""
        return set(self._positions)

    def _renew(self, conn: sqlite3.Connection, now: float) -> None:
        """Keep this member live, and its leases: those still in its name, which nobody took meanwhile."""
        expires = now + self._lease_s
        conn.execute("INSERT OR REPLACE INTO members VALUES (?, ?, ?)", (self._group, self._member, expires))
        conn.execute("UPDATE leases SET expires = ? WHERE grp = ? AND member = ?", (expires, self._group, self._member))

    def _beat(self) -> None:
        conn = connect(self._path)  # its own: one connection is never used by two threads at once
        try:
            while not self._closing.wait(self._heartbeat_s):
                try:
                    with sqlite_db.transaction(conn, "local log") as tx:
                        self._renew(tx, time.time())
                except (TransientError, sqlite3.Error) as exc:  # the next beat tries again before the lease ends
                    log.warning("local log: group %s: heartbeat failed (%s)", self._group, exc)
        finally:
            conn.close()

    def _committed(self, conn: sqlite3.Connection, tp: tuple[str, int]) -> int:
        row = conn.execute("SELECT offset FROM commits WHERE grp = ? AND topic = ? AND partition = ?",
                           (self._group, *tp)).fetchone()
        return row[0] if row else 0

    def _balance(self) -> None:
        """Hold this member's share of the partitions: give up the ones above it that have nothing uncommitted,
        take free ones (never leased, given up, or expired) up to it."""
        now = time.time()
        with sqlite_db.transaction(self._conn, "local log") as conn:
            self._renew(conn, now)
            conn.execute("DELETE FROM members WHERE grp = ? AND expires <= ?", (self._group, now))
            members = [m for (m,) in conn.execute("SELECT member FROM members WHERE grp = ? ORDER BY member",
                                                  (self._group,))]
            partitions = [(topic, partition) for topic in self._topics
                          for partition in range(_partitions(conn, topic, self._default_partitions))]
            leases = {(topic, partition): (member, expires) for topic, partition, member, expires in conn.execute(
                "SELECT topic, partition, member, expires FROM leases WHERE grp = ?", (self._group,))}
            # The shares add up to the partitions: the first members in id order take one more when they don't
            # divide evenly, so every member computes the same split.
            share = len(partitions) // len(members) + (members.index(self._member) < len(partitions) % len(members))
            mine = [tp for tp in partitions if tp in leases and leases[tp][0] == self._member]
            given_up = [tp for tp in mine if tp not in self._uncommitted][:max(0, len(mine) - share)]
            for tp in given_up:
                conn.execute("DELETE FROM leases WHERE grp = ? AND topic = ? AND partition = ?", (self._group, *tp))
            kept = [tp for tp in mine if tp not in given_up]
            free = [tp for tp in partitions if tp not in leases or (leases[tp][1] <= now and tp not in mine)]
            taken = free[:max(0, share - len(kept))]
            for tp in taken:
                conn.execute("INSERT OR REPLACE INTO leases VALUES (?, ?, ?, ?, ?)",
                             (self._group, *tp, self._member, now + self._lease_s))
            # A partition taken resumes from the group's last commit, whoever made it.
            positions = {tp: self._positions[tp] for tp in kept} | {tp: self._committed(conn, tp) for tp in taken}
        self._lost(self._positions.keys() - positions.keys() - set(given_up))
        if given_up or taken:
            log.info("local log: group %s: member %s took %s, gave up %s (its share: %d of %d, %d members)",
                     self._group, self._member[:8], _names(taken), _names(given_up), share, len(partitions),
                     len(members))
        self._positions = positions

    def _lost(self, partitions: Collection[tuple[str, int]]) -> None:
        if partitions:
            log.warning("local log: group %s: lease lapsed on %s, now another member's; what was read there since "
                        "the last commit is redone by that member", self._group, _names(partitions))

    def poll(self, max_records, timeout_s):
        if self._heartbeat is None:  # a member joins on its first poll (one that never polls would hold a share)
            self._heartbeat = threading.Thread(target=self._beat, name=f"local-log-heartbeat-{self._group}",
                                               daemon=True)
            self._heartbeat.start()
        deadline = time.monotonic() + timeout_s
        while True:
            # Rebalanced once a heartbeat (a write, so not on every poll); a member without partitions looks for
            # free ones each time.
            if not self._positions or time.monotonic() - self._balanced_at > self._heartbeat_s:
                self._balance()
                self._balanced_at = time.monotonic()
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
                    self._uncommitted.add((topic, partition))
                if len(records) >= max_records:
                    break
            if records or time.monotonic() >= deadline:
                return records
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def commit(self):
        with sqlite_db.transaction(self._conn, "local log") as conn:
            for tp, position in list(self._positions.items()):
                holder = conn.execute("SELECT member FROM leases WHERE grp = ? AND topic = ? AND partition = ?",
                                      (self._group, *tp)).fetchone()
                if holder and holder[0] == self._member:
                    conn.execute("INSERT OR REPLACE INTO commits VALUES (?, ?, ?, ?)", (self._group, *tp, position))
                    continue
                # Fenced: our lease lapsed (the process stood still) and another member took the partition. It
                # resumes from the last commit, so what we did since is redone there (at least once), and our
                # position must not overwrite its progress. Not an error: the rest of the batch is committed.
                del self._positions[tp]
                self._lost([tp])
        self._uncommitted.clear()

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
        self._closing.set()
        if self._heartbeat is not None:
            self._heartbeat.join()
        with sqlite_db.transaction(self._conn, "local log") as conn:  # the others take over at once
            conn.execute("DELETE FROM leases WHERE grp = ? AND member = ?", (self._group, self._member))
            conn.execute("DELETE FROM members WHERE grp = ? AND member = ?", (self._group, self._member))
        self._conn.close()


def _names(partitions: Iterable[tuple[str, int]]) -> str:
    return ", ".join(f"{topic}[{partition}]" for topic, partition in sorted(partitions)) or "nothing"


class LocalLogTransport(Transport):
    name = "local"

    def __init__(self, path: Path, topics: TopicSettings, lease_s: float = LEASE_S, heartbeat_s: float | None = None):
        self.path = Path(path)
        self._partitions = topics.partitions
        self._lease_s = lease_s
        self._heartbeat_s = heartbeat_s
        connect(self.path).close()

    def ensure_topics(self, topics):
        with sqlite_db.transaction(conn := connect(self.path), "local log"):
            for topic in topics:
                _partitions(conn, topic, self._partitions)
        conn.close()

    def producer(self):
        return LocalProducer(self.path, self._partitions)

    def consumer(self, topics, group):
        return LocalConsumer(self.path, topics, group, self._partitions, self._lease_s, self._heartbeat_s)

    def committed(self, group, topic):
        with closing(connect(self.path)) as conn:
            return dict(conn.execute("SELECT partition, offset FROM commits WHERE grp = ? AND topic = ?",
                                     (group, topic)).fetchall())

    def fetch(self, topic, partition, offset):
        with closing(connect(self.path)) as conn:
            row = conn.execute("SELECT value FROM messages WHERE topic = ? AND partition = ? AND offset = ?",
                               (topic, partition, offset)).fetchone()
        return row[0] if row else None
