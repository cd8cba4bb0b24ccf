"""SQLite as the embedded backends use it (the local log, the embedded store, crawl state): one way to
open a database file and one way to write to it."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from streams.errors import TransientError


def connect(path: Path, schema: str, *, synchronous_full: bool = False) -> sqlite3.Connection:
    """Open (creating the folder and the tables) in WAL mode, in autocommit: transactions are explicit."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Handed between threads (a stage is built in one and run in another), never used by two at once.
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    if synchronous_full:  # durable against power loss, not only against a crash of the process
        conn.execute("PRAGMA synchronous=FULL")
    conn.executescript(schema)
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection, what: str,
                lock: threading.Lock | None = None) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error. Writers queue on SQLite's lock instead of
    failing midway; one that waits past the timeout raises TransientError naming `what`, so stages
    back off and retry. `lock` serialises threads sharing one connection."""
    if lock is not None:
        lock.acquire()
    try:
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise TransientError(f"{what} busy or unavailable: {exc}") from exc
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        if lock is not None:
            lock.release()
