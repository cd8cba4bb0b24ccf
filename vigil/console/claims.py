"""Claims with leases: a reviewer who opens an item holds it for a few minutes, renewed while its page is
open, so that two reviewers never work on the same item; a queue's next item skips items others hold.
Also the count of items each reviewer has seen today (reviewer wellness)."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from vigil.console.auth import Clock
from vigil.console.db import ConsoleDB


@dataclass(frozen=True)
class Claim:
    document_id: str
    reviewer: str
    expires_at: float

    @property
    def expires(self) -> datetime:
        return datetime.fromtimestamp(self.expires_at, timezone.utc)


class Claims:
    def __init__(self, db: ConsoleDB, lease_s: float, clock: Clock = time.time):
        self.db = db
        self.lease_s = lease_s
        self.clock = clock

    def claim(self, document_id: str, reviewer: str) -> Claim:
        """Take the item, or renew one's own lease on it. Returns the claim in force: another reviewer's when
        they hold it (check `.reviewer`)."""
        now = self.clock()

        def take(conn):
            row = conn.execute("SELECT reviewer, expires_at FROM claims WHERE document_id = ?",
                               (document_id,)).fetchone()
            if row and row[0] != reviewer and row[1] > now:
                return Claim(document_id, row[0], row[1])
            conn.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?)", (document_id, reviewer, now + self.lease_s))
            return Claim(document_id, reviewer, now + self.lease_s)
        return self.db.write(take)

    def holder(self, document_id: str) -> Claim | None:
        rows = self.db.read("SELECT reviewer, expires_at FROM claims WHERE document_id = ? AND expires_at > ?",
                            (document_id, self.clock()))
        return Claim(document_id, rows[0][0], rows[0][1]) if rows else None

    def release(self, document_id: str, reviewer: str) -> None:
        """Let go of one's own claim (after a decision, or moving on); others' claims stay."""
        self.db.write(lambda conn: conn.execute("DELETE FROM claims WHERE document_id = ? AND reviewer = ?",
                                                (document_id, reviewer)))

    def held_by_others(self, reviewer: str) -> dict[str, Claim]:
        """Items other reviewers hold now, by document id."""
        now = self.clock()
        rows = self.db.read("SELECT document_id, reviewer, expires_at FROM claims WHERE reviewer != ? AND "
                            "expires_at > ?", (reviewer, now))
        return {doc: Claim(doc, who, expires) for doc, who, expires in rows}

    def purge(self) -> None:
        self.db.write(lambda conn: conn.execute("DELETE FROM claims WHERE expires_at <= ?", (self.clock(),)))


class SeenToday:
    """Distinct items each reviewer has opened today (UTC day)."""

    def __init__(self, db: ConsoleDB, clock: Clock = time.time):
        self.db = db
        self.clock = clock

    def _today(self) -> str:
        return datetime.fromtimestamp(self.clock(), timezone.utc).date().isoformat()

    def saw(self, reviewer: str, document_id: str) -> None:
        day = self._today()
        self.db.write(lambda conn: conn.execute("INSERT OR IGNORE INTO seen VALUES (?, ?, ?)",
                                                (reviewer, day, document_id)))

    def count(self, reviewer: str) -> int:
        return self.db.read("SELECT COUNT(*) FROM seen WHERE reviewer = ? AND day = ?",
                            (reviewer, self._today()))[0][0]
