"""The embedded store: SQLite with FTS5, answering the same queries as the Elasticsearch store."""
from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from streams import sqlite_db
from streams.hashlists.banks import Entry, HashList
from streams.schemas import ClassifiedDocument, ReviewEvent
from streams.stores.base import (
    Hit,
    SearchQuery,
    SearchResult,
    Store,
    history_entry,
    legacy_event,
    review_fields,
    standing_event,
    to_index_document,
    utc_text,
)
from streams.stores.query import Term

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, body TEXT NOT NULL, source TEXT, lang TEXT, flagged INTEGER, max_score REAL,
    fetched_at TEXT, review TEXT NOT NULL DEFAULT '{"status": "unreviewed"}');
CREATE TABLE IF NOT EXISTS scores (id TEXT, label TEXT, score REAL, over INTEGER, PRIMARY KEY (id, label));
CREATE INDEX IF NOT EXISTS scores_label ON scores (label, score);
CREATE INDEX IF NOT EXISTS documents_url ON documents (json_extract(body, '$.url'));
CREATE INDEX IF NOT EXISTS documents_canonical_url ON documents (json_extract(body, '$.canonical_url'));
CREATE INDEX IF NOT EXISTS documents_thread ON documents (json_extract(body, '$.post.thread_url'));
CREATE TABLE IF NOT EXISTS availability (id TEXT PRIMARY KEY, checked_at TEXT, status TEXT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS alerts (id TEXT PRIMARY KEY, created_at TEXT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL UNIQUE, document_id TEXT NOT NULL,
    reviewer TEXT NOT NULL, decided_at TEXT NOT NULL, body TEXT NOT NULL, published INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS reviews_document ON reviews (document_id, decided_at, seq);
CREATE INDEX IF NOT EXISTS reviews_decided ON reviews (decided_at, seq);
CREATE INDEX IF NOT EXISTS reviews_outbox ON reviews (published, decided_at, seq);
CREATE TABLE IF NOT EXISTS hashlists (name TEXT PRIMARY KEY, body TEXT NOT NULL, revision INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS hashlist_entries (
    list TEXT NOT NULL REFERENCES hashlists (name), id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (list, id));
CREATE VIRTUAL TABLE IF NOT EXISTS fulltext USING fts5(
    id UNINDEXED, title, text, tokenize = 'porter unicode61 remove_diacritics 2');
"""

HISTORY_VERSION = 1  # PRAGMA user_version: the store keeps a history of decisions


def fts_phrase(term: Term) -> str:
    """An FTS5 string: the tokenizer splits it as it split the documents, and nothing in it is syntax
    (AND, NEAR, column:, ^ and * are text inside the quotes; a quote is doubled)."""
    quoted = '"' + term.text.replace('"', '""') + '"'
    return quoted + "*" if term.prefix else quoted


def fts_any(terms: tuple[Term, ...]) -> str:
    return " OR ".join(fts_phrase(term) for term in terms)


def fts_all(groups: tuple[tuple[Term, ...], ...]) -> str:
    return " AND ".join(f"({fts_any(group)})" for group in groups)


class SqliteStore(Store):
    name = "embedded"

    def __init__(self, path: Path):
        self.path = Path(path)
        self._conn = sqlite_db.connect(self.path, SCHEMA)
        self._lock = threading.Lock()
        if self._conn.execute("PRAGMA user_version").fetchone()[0] < HISTORY_VERSION:
            self._start_history()

    def setup(self):
        self._conn.executescript(SCHEMA)

    def _write(self, statements):
        with sqlite_db.transaction(self._conn, f"embedded store {self.path}", self._lock) as conn:
            statements(conn)

    def upsert(self, docs: list[ClassifiedDocument]):
        def write(conn: sqlite3.Connection):
            for doc in docs:
                body = to_index_document(doc)
                conn.execute(
                    "INSERT INTO documents (id, body, source, lang, flagged, max_score, fetched_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body, "
                    "source = excluded.source, lang = excluded.lang, flagged = excluded.flagged, "
                    "max_score = excluded.max_score, fetched_at = excluded.fetched_at",
                    (body["id"], json.dumps(body), body["source"], body["lang"], int(body["flagged"]),
                     body["max_score"], body["fetched_at"]),
                )
                conn.execute("DELETE FROM scores WHERE id = ?", (body["id"],))
                conn.executemany("INSERT INTO scores VALUES (?, ?, ?, ?)", [
                    (body["id"], label, score, int(label in body["labels"])) for label, score in body["scores"].items()
                ])
                conn.execute("DELETE FROM fulltext WHERE id = ?", (body["id"],))
                conn.execute("INSERT INTO fulltext (id, title, text) VALUES (?, ?, ?)",
                             (body["id"], body["title"], body["text"]))
        self._write(write)
        return [None] * len(docs)

    def _start_history(self):
        """A store from before the history: each reviewed document's decision becomes its first event (already
        published: it was, when it was made). Once per store file."""
        def write(conn: sqlite3.Connection):
            rows = conn.execute("SELECT body, review FROM documents WHERE json_extract(review, '$.status') != "
                                "'unreviewed' AND id NOT IN (SELECT document_id FROM reviews)").fetchall()
            for body, review in rows:
                event = legacy_event({**json.loads(body), "review": json.loads(review)})
                self._insert_event(conn, event, published=True)
                conn.execute("UPDATE documents SET review = ? WHERE id = ?",
                             (json.dumps(review_fields(event)), event.document_id))
            conn.execute(f"PRAGMA user_version = {HISTORY_VERSION}")
        self._write(write)

    @staticmethod
    def _insert_event(conn: sqlite3.Connection, event: ReviewEvent, published: bool = False) -> bool:
        return conn.execute(
            "INSERT OR IGNORE INTO reviews (event_id, document_id, reviewer, decided_at, body, published) "
            "VALUES (?, ?, ?, ?, ?, ?)", (event.event_id, event.document_id, event.reviewer,
                                           event.decided_at.isoformat(), event.to_bytes().decode(), int(published))
        ).rowcount == 1

    def append_review(self, event: ReviewEvent):
        def write(conn: sqlite3.Connection):
            if conn.execute("SELECT 1 FROM documents WHERE id = ?", (event.document_id,)).fetchone() is None:
                raise KeyError(event.document_id)
            if not self._insert_event(conn, event):
                return  # this event is in the history already
            events = [ReviewEvent.model_validate_json(row[0]) for row in conn.execute(
                "SELECT body FROM reviews WHERE document_id = ? ORDER BY decided_at, seq", (event.document_id,))]
            conn.execute("UPDATE documents SET review = ? WHERE id = ?",
                         (json.dumps(review_fields(standing_event(events))), event.document_id))
        self._write(write)

    def _entries(self, sql: str, params: list) -> list[dict]:
        return [history_entry(ReviewEvent.model_validate_json(body), bool(published))
                for body, published in self._conn.execute(sql, params)]

    def review_history(self, doc_id):
        return self._entries("SELECT body, published FROM reviews WHERE document_id = ? ORDER BY decided_at, seq",
                             [doc_id])

    def audit_log(self, reviewer=None, document_id=None, since=None, until=None, limit=100):
        where, params = [], []
        for column, value in (("reviewer = ?", reviewer), ("document_id = ?", document_id),
                              ("decided_at >= ?", since and utc_text(since)),
                              ("decided_at <= ?", until and utc_text(until))):
            if value is not None:
                where.append(column)
                params.append(value)
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        return self._entries(f"SELECT body, published FROM reviews{clause} ORDER BY decided_at DESC, seq DESC LIMIT ?",
                             [*params, limit])

    def unpublished_reviews(self, limit):
        rows = self._conn.execute("SELECT body FROM reviews WHERE published = 0 ORDER BY decided_at, seq LIMIT ?",
                                  (limit,))
        return [ReviewEvent.model_validate_json(row[0]) for row in rows]

    def mark_published(self, event_ids):
        self._write(lambda conn: conn.executemany("UPDATE reviews SET published = 1 WHERE event_id = ?",
                                                  [(event_id,) for event_id in event_ids]))

    def to_recheck(self, checked_before, limit):
        rows = self._conn.execute(
            "SELECT d.body, a.body FROM documents d LEFT JOIN availability a ON a.id = d.id "
            "WHERE d.flagged = 1 AND (a.id IS NULL OR (a.status != 'offline' AND a.checked_at < ?)) "
            "ORDER BY a.checked_at IS NOT NULL, a.checked_at LIMIT ?", (checked_before.isoformat(), limit))
        results = []
        for body, availability in rows:
            doc = json.loads(body)
            results.append({"id": doc["id"], "url": doc["url"], "source": doc["source"],
                            "availability": json.loads(availability) if availability else None})
        return results

    def record_availability(self, doc_id, availability):
        self._write(lambda conn: conn.execute("INSERT OR REPLACE INTO availability VALUES (?, ?, ?, ?)", (
            doc_id, availability["checked_at"], availability["status"], json.dumps(availability))))

    def reviewed(self):
        rows = self._conn.execute("SELECT body, review FROM documents "
                                  "WHERE json_extract(review, '$.status') != 'unreviewed' ORDER BY id")
        for body, review in rows:
            yield {**json.loads(body), "review": json.loads(review)}

    def write_alert(self, alert):
        self._write(lambda conn: conn.execute("INSERT OR REPLACE INTO alerts VALUES (?, ?, ?)",
                                              (alert["id"], alert["created_at"], json.dumps(alert))))

    def recent_alerts(self, limit=20):
        rows = self._conn.execute("SELECT body FROM alerts ORDER BY created_at DESC LIMIT ?", (limit,)).fetchall()
        return [json.loads(row[0]) for row in rows]

    def save_hashlist(self, hashlist):
        self._write(lambda conn: conn.execute(
            "INSERT INTO hashlists (name, body, revision) VALUES (?, ?, 1) ON CONFLICT (name) DO UPDATE SET "
            "body = excluded.body, revision = revision + 1", (hashlist.name, hashlist.model_dump_json())))

    def hashlists(self):
        rows = self._conn.execute("SELECT body FROM hashlists ORDER BY name").fetchall()
        return [HashList.model_validate_json(row[0]) for row in rows]

    def add_entries(self, name, entries):
        added = 0

        def write(conn):
            nonlocal added
            if conn.execute("SELECT 1 FROM hashlists WHERE name = ?", (name,)).fetchone() is None:
                raise KeyError(f"no hash list {name!r}")
            before = conn.execute("SELECT COUNT(*) FROM hashlist_entries WHERE list = ?", (name,)).fetchone()[0]
            conn.executemany("INSERT OR REPLACE INTO hashlist_entries (list, id, body) VALUES (?, ?, ?)",
                             [(name, entry.id, entry.model_dump_json()) for entry in entries])
            added = conn.execute("SELECT COUNT(*) FROM hashlist_entries WHERE list = ?", (name,)).fetchone()[0] - before
            conn.execute("UPDATE hashlists SET revision = revision + 1 WHERE name = ?", (name,))
        self._write(write)
        return added

    def hashlist_entries(self, name=None):
        sql = "SELECT list, body FROM hashlist_entries" + (" WHERE list = ?" if name else "") + " ORDER BY list, id"
        for list_name, body in self._conn.execute(sql, (name,) if name else ()):
            yield list_name, Entry.model_validate_json(body)

    def count_entries(self):
        rows = self._conn.execute("SELECT h.name, COUNT(e.id) FROM hashlists h LEFT JOIN hashlist_entries e "
                                  "ON e.list = h.name GROUP BY h.name").fetchall()
        return dict(rows)

    def remove_entry(self, name, entry_id):
        removed = False

        def write(conn):
            nonlocal removed
            removed = conn.execute("DELETE FROM hashlist_entries WHERE list = ? AND id = ?",
                                   (name, entry_id)).rowcount > 0
            if removed:
                conn.execute("UPDATE hashlists SET revision = revision + 1 WHERE name = ?", (name,))
        self._write(write)
        return removed

    def hashlists_version(self):
        lists, revisions = self._conn.execute("SELECT COUNT(*), TOTAL(revision) FROM hashlists").fetchone()
        return f"{lists}:{int(revisions)}"

    def get(self, doc_id):
        row = self._conn.execute("SELECT d.body, d.review, a.body FROM documents d LEFT JOIN availability a "
                                 "ON a.id = d.id WHERE d.id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        return {**json.loads(row[0]), "review": json.loads(row[1]), **({"availability": json.loads(row[2])}
                                                                         if row[2] else {})}

    def _search(self, query: SearchQuery) -> SearchResult:
        where: list[str] = []
        params: list[object] = []
        joins = ""
        join_params: list[object] = []
        order = "d.max_score DESC, d.fetched_at DESC"
        snippet = "''"
        text = query.text_query
        if text.required:
            joins += " JOIN fulltext f ON f.id = d.id"
            where.append("fulltext MATCH ?")
            params.append(fts_all(text.required))
            order = "bm25(fulltext)"
            snippet = "snippet(fulltext, 2, '**', '**', ' … ', 16)"
        if text.excluded:  # FTS5's NOT needs something on its left; a subquery works with or without
            where.append("d.id NOT IN (SELECT id FROM fulltext WHERE fulltext MATCH ?)")
            params.append(fts_any(text.excluded))
        if query.label:
            joins += " JOIN scores s ON s.id = d.id AND s.label = ?"
            join_params.append(query.label)
            where.append("s.over = 1")
            if query.min_score is not None:
                where.append("s.score >= ?")
                params.append(query.min_score)
        elif query.min_score is not None:
            where.append("d.max_score >= ?")
            params.append(query.min_score)
        if query.score_below is not None:
            where.append("d.max_score < ?")
            params.append(query.score_below)
        for column, value in (("d.source", query.source), ("d.lang", query.lang)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if query.flagged is not None:
            where.append("d.flagged = ?")
            params.append(int(query.flagged))
        if query.since is not None:
            where.append("d.fetched_at >= ?")
            params.append(query.since.isoformat())
        if query.until is not None:
            where.append("d.fetched_at <= ?")
            params.append(query.until.isoformat())
        if query.review_status is not None:
            where.append("json_extract(d.review, '$.status') = ?")
            params.append(query.review_status)
        if query.urls is not None:  # the expressions the documents_url and documents_canonical_url indexes hold
            marks = ", ".join("?" * len(query.urls))
            where.append(f"(json_extract(d.body, '$.url') IN ({marks}) "
                         f"OR json_extract(d.body, '$.canonical_url') IN ({marks}))")
            params.extend([*query.urls, *query.urls])
        if query.thread_url is not None:
            where.append("json_extract(d.body, '$.post.thread_url') = ?")
            params.append(query.thread_url)
        params = join_params + params  # FROM's placeholders come before WHERE's
        clause = (" WHERE " + " AND ".join(where)) if where else ""
        sql_from = f"FROM documents d{joins}{clause}"
        total = self._conn.execute(f"SELECT COUNT(*) {sql_from}", params).fetchone()[0]
        rows = self._conn.execute(
            f"SELECT d.body, d.review, {snippet} {sql_from} ORDER BY {order} LIMIT ?", [*params, query.limit]
        ).fetchall()
        hits = []
        for body_json, review_json, snip in rows:
            hits.append(Hit.of(json.loads(body_json), json.loads(review_json)["status"], snip))
        return SearchResult(total=total, hits=hits)

    def close(self):
        self._conn.close()
