"""What a source's earlier crawls saw, so a scheduled run emits only new or changed documents.

One SQLite file per source in data_dir/crawl-state: per canonical URL the validators the server sent
(ETag, Last-Modified), the text hash and simhash of the published document, and when it was seen.
Rows are written only after the document was durably published, so a crash never hides a page from
the next run.
"""
from __future__ import annotations

import threading
from pathlib import Path

from streams import sqlite_db

NEAR_DUPLICATE_BITS = 3  # simhashes this close are the same text with small edits (counters, dates, ads)
RECENT_FOR_NEAR_DUPLICATES = 5000

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY, document_id TEXT, etag TEXT, last_modified TEXT, text_sha256 TEXT, simhash TEXT,
    sitemap_lastmod TEXT, seen_at TEXT);
CREATE INDEX IF NOT EXISTS pages_seen ON pages (seen_at);
"""


class CrawlState:
    def __init__(self, data_dir: Path, source_id: str):
        self.path = path = Path(data_dir) / "crawl-state" / f"{source_id}.sqlite"
        self._conn = sqlite_db.connect(path, SCHEMA)
        self._lock = threading.Lock()
        self._recent = [(doc_id, int(simhash, 16)) for doc_id, simhash in self._conn.execute(
            "SELECT document_id, simhash FROM pages WHERE simhash IS NOT NULL ORDER BY seen_at DESC LIMIT ?",
            (RECENT_FOR_NEAR_DUPLICATES,))]

    def validators(self, url: str) -> tuple[str | None, str | None] | None:
        row = self._conn.execute("SELECT etag, last_modified FROM pages WHERE url = ?", (url,)).fetchone()
        return row if row and (row[0] or row[1]) else None

    def text_hash(self, url: str) -> str | None:
        row = self._conn.execute("SELECT text_sha256 FROM pages WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def sitemap_lastmod(self, url: str) -> str | None:
        row = self._conn.execute("SELECT sitemap_lastmod FROM pages WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    def near_duplicate_of(self, simhash: str, document_id: str) -> str | None:
        """A recent document of this source (earlier runs, or this one so far) whose simhash is within
        NEAR_DUPLICATE_BITS of this one; this document joins the recent ones."""
        value = int(simhash, 16)
        match = next((other_id for other_id, other in self._recent
                      if other_id != document_id and bin(value ^ other).count("1") <= NEAR_DUPLICATE_BITS), None)
        self._recent.insert(0, (document_id, value))
        del self._recent[RECENT_FOR_NEAR_DUPLICATES:]
        return match

    def record(self, rows: list[dict]) -> None:
        """After publishing: remember each document's URL, validators and hashes."""
        with sqlite_db.transaction(self._conn, f"crawl state {self.path}", self._lock) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO pages VALUES (:url, :document_id, :etag, :last_modified, :text_sha256, "
                ":simhash, :sitemap_lastmod, :seen_at)", rows)

    def close(self) -> None:
        self._conn.close()
