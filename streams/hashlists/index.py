"""An in-memory matcher over hash lists: exact lookups, PDQ within a Hamming distance, text near-copies.

Built once from (HashList, Entry) pairs, then read-only (rebuild it when a list changes): threatexchange's
PDQ index (faiss multi-index hashing, so a lookup is not a scan of the list) and a datasketch MinHashLSH over
the chunks of banked passages (streams/hashlists/text.py says why chunks and windows).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from datasketch import LeanMinHash, MinHashLSH  # type: ignore[import-untyped]
from threatexchange.signal_type.pdq.pdq_index import PDQIndex

from streams.hashlists import text as textsig
from streams.hashlists.banks import Entry, HashList, label_of
from streams.schemas import ImageRef, Match

log = logging.getLogger(__name__)

# Hamming bits (of 256). threatexchange's PDQ_CONFIDENT_MATCH_THRESHOLD, HMA's default. Measured
# (bench/hashlists.py): 0 of 19,900 pairs of unrelated generated posters within 31, 40 or 52 bits
# (closest 84, median 120). Resized, re-encoded, 5%-cropped and 5%-bordered copies of 10 posters, against the
# poster's banked variants (images.pdq_variants): 38 of 40 within 31 (all those within 14), 2 missed (34, 82).
PDQ_THRESHOLD = 31
# Jaccard of a page window and a banked chunk (text_minhash distance = 1 - this). Measured
# (bench/hashlists.py), false matches per query page: English, 2,000 banked passages of pro-ISIS tweets vs 176
# pages of same-topic news/commentary and HateCheck counter-speech: 0 at 0.3, 0.4 and 0.5 (the closest
# unrelated pair 0.11); Arabic, 1,277 ArMPro news paragraphs vs 496 pages of other ArMPro articles: 4/496 at
# 0.3, 3/496 at 0.4 and 0.5 (up to 0.60: stretches two news articles share, not checked by hand). The tests' edited,
# re-punctuated and embedded copies score 0.48-0.79, so 0.4 keeps a margin on both sides.
TEXT_MINHASH_THRESHOLD = 0.4
# The LSH finds candidates a little below the threshold; each candidate's Jaccard is then computed exactly
# from the two MinHashes.
LSH_CANDIDATE_THRESHOLD = 0.3
EVIDENCE_CHARS = 200
EXACT_SIGNALS = ("text_exact", "md5", "sha256")


@dataclass(frozen=True)
class _Banked:
    hash_list: HashList
    entry: Entry

    def match(self, distance: float, evidence: str) -> Match:
        return Match(list=self.hash_list.name, entry=self.entry.id, signal_type=self.entry.signal_type,
                     distance=distance, label=label_of(self.hash_list, self.entry), evidence=evidence)


class _PDQIndex(PDQIndex[int]):
    """threatexchange's index at our threshold (it reads get_match_threshold on each query)."""

    def __init__(self, threshold: int) -> None:
        self.threshold = threshold
        super().__init__()

    def get_match_threshold(self) -> int:  # type: ignore[override]
        return self.threshold


class HashIndex:
    def __init__(self, items: Iterable[tuple[HashList, Entry]], *, pdq_threshold: int = PDQ_THRESHOLD,
                 text_threshold: float = TEXT_MINHASH_THRESHOLD,
                 candidate_threshold: float | None = None) -> None:
        self.pdq_threshold = pdq_threshold
        self.text_threshold = text_threshold
        self._banked: list[_Banked] = []
        self._exact: dict[tuple[str, str], list[int]] = {}
        pdq: list[tuple[str, int]] = []
        self._chunks: list[LeanMinHash] = []
        self._chunk_owner: list[int] = []
        for hash_list, entry in items:
            i = len(self._banked)
            self._banked.append(_Banked(hash_list, entry))
            if entry.signal_type in EXACT_SIGNALS:
                self._exact.setdefault((entry.signal_type, entry.value), []).append(i)
            elif entry.signal_type == "pdq":
                pdq.append((entry.value, i))
            elif entry.signal_type == "text_minhash":
                for chunk in textsig.parse_signature(entry.value):
                    self._chunks.append(chunk)
                    self._chunk_owner.append(i)
            # video_md5 / video_sha256: kept in the lists, never met here (Vigil does not hash video)
        self._pdq = _PDQIndex(pdq_threshold)
        if pdq:
            self._pdq.add_all(pdq)
        lsh_threshold = min(text_threshold, candidate_threshold if candidate_threshold is not None
                            else min(LSH_CANDIDATE_THRESHOLD, text_threshold))
        self._lsh = MinHashLSH(threshold=lsh_threshold, num_perm=textsig.NUM_PERM)
        with self._lsh.insertion_session() as session:
            for key, chunk in enumerate(self._chunks):
                session.insert(key, chunk, check_duplication=False)
        log.info("hash index: %d entries, %d PDQ, %d text chunks", len(self._banked), len(pdq), len(self._chunks))

    def __len__(self) -> int:
        return len(self._banked)

    def match_text(self, text: str) -> list[Match]:
        matches: list[Match] = []
        if textsig.normalise(text):
            for i in self._exact.get(("text_exact", textsig.exact_hash(text)), ()):
                matches.append(self._banked[i].match(0.0, text.strip()[:EVIDENCE_CHARS]))
        for i, (similarity, evidence) in self.text_similarities(text).items():
            if similarity >= self.text_threshold:
                matches.append(self._banked[i].match(round(1.0 - similarity, 4), evidence[:EVIDENCE_CHARS]))
        return matches

    def text_similarities(self, text: str) -> dict[int, tuple[float, str]]:
        """Each candidate entry's best window-to-chunk Jaccard and that window's text (the bench reads these
        to count false matches at several thresholds)."""
        best: dict[int, tuple[float, str]] = {}
        if not self._chunks:
            return best
        for window in textsig.windows(text):
            for key in self._lsh.query(window.minhash):
                owner = self._chunk_owner[key]
                similarity = window.minhash.jaccard(self._chunks[key])
                if similarity > best.get(owner, (-1.0, ""))[0]:
                    best[owner] = (similarity, window.text)
        return best

    def match_images(self, images: list[ImageRef]) -> list[Match]:
        matches: list[Match] = []
        for image in images:
            for signal_type, value in (("md5", image.md5), ("sha256", image.sha256)):
                for i in self._exact.get((signal_type, value), ()):
                    matches.append(self._banked[i].match(0.0, image.url))
            if image.pdq is not None and len(self._pdq):
                for hit in self._pdq.query(image.pdq):
                    matches.append(self._banked[hit.metadata].match(float(hit.similarity_info.distance), image.url))
        return matches
