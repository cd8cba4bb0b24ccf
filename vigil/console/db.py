"""The console's own database (data_dir/console.sqlite): accounts, sessions, failed logins, claims and
what each reviewer has seen today. Never documents or decisions: those live in the store."""
from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from streams import sqlite_db
from streams.config import VigilSettings

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    id_hash TEXT PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL, created_at REAL NOT NULL,
    expires_at REAL NOT NULL, address TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user);
CREATE TABLE IF NOT EXISTS login_failures (user TEXT NOT NULL, address TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS login_failures_key ON login_failures (user, address, at);
CREATE TABLE IF NOT EXISTS claims (document_id TEXT PRIMARY KEY, reviewer TEXT NOT NULL, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS seen (reviewer TEXT NOT NULL, day TEXT NOT NULL, document_id TEXT NOT NULL,
    PRIMARY KEY (reviewer, day, document_id));
"""

T = TypeVar("T")


def console_db_path(settings: VigilSettings) -> Path:
    return settings.data_dir / "console.sqlite"


class ConsoleDB:
    """One connection, shared by the console's threads one at a time (`lock`)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.conn = sqlite_db.connect(self.path, SCHEMA)
        self.lock = threading.RLock()

    def read(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        with self.lock:
            return self.conn.execute(sql, params).fetchall()

    def write(self, statements: Callable[[sqlite3.Connection], T]) -> T:
        with self.lock, sqlite_db.transaction(self.conn, f"console database {self.path}") as conn:
            return statements(conn)

    def close(self) -> None:
        self.conn.close()
