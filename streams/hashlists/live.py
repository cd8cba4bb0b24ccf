"""The hash lists as a running stage matches against them: an index built from the store and rebuilt when
the store says a list changed (`Store.hashlists_version`), checked at most every `reload_s` seconds. A store
that cannot be read keeps the index in effect: matching never stops the stage."""
from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable

from streams.config import HashListSettings
from streams.hashlists.index import PDQ_THRESHOLD, TEXT_MINHASH_THRESHOLD, HashIndex
from streams.schemas import Match, RawDocument
from streams.stores import Store

log = logging.getLogger(__name__)


class LiveHashIndex:
    def __init__(self, store: Store, settings: HashListSettings, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.settings = settings
        self.clock = clock
        self.index: HashIndex | None = None
        self.version: str | None = None
        self._checked_at: float | None = None

    def refresh(self, stats: Counter) -> None:
        """Rebuild the index if a list changed since it was built (checked every reload_s seconds)."""
        now = self.clock()
        if self._checked_at is not None and now - self._checked_at < self.settings.reload_s:
            return
        self._checked_at = now
        try:
            version = self.store.hashlists_version()
            if version == self.version:
                return
            lists = {hashlist.name: hashlist for hashlist in self.store.hashlists()}
            entries = [(lists[name], entry) for name, entry in self.store.hashlist_entries() if name in lists]
            self.index = HashIndex(
                entries,
                pdq_threshold=PDQ_THRESHOLD if self.settings.pdq_threshold is None else self.settings.pdq_threshold,
                text_threshold=self.settings.text_threshold or TEXT_MINHASH_THRESHOLD)
            self.version = version
            stats["hashlist_reloads"] += 1
            # Counts only: lists can hold hashes of illegal content, never logged in full.
            log.info("matching against %d hash lists, %d entries", len(lists), len(entries))
        except Exception as exc:
            stats["hashlist_reload_errors"] += 1
            # The type only: a stored entry that fails to parse would put its hash in the message.
            log.error("hash lists not reloaded (%s), the index in effect stays (%d entries)", type(exc).__name__,
                      len(self.index) if self.index else 0)

    def match(self, doc: RawDocument) -> list[Match]:
        if self.index is None or not len(self.index):
            return []
        return self.index.match_text(doc.text) + self.index.match_images(doc.images)

    def close(self) -> None:
        self.store.close()
