"""An in-memory matcher over hash lists: exact lookups, PDQ within a Hamming distance, text near-copies.

Built once from (HashList, Entry) pairs, then read-only (rebuild it when a list changes): threatexchange's
PDQ index (faiss multi-index hashing, so a lookup is not a scan of the list) and an LSH, with datasketch's
band parameters, over the MinHashes of banked passages' chunks (streams/hashlists/text.py says why chunks and windows).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from datasketch.lsh import _optimal_param  # type: ignore[import-untyped]
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


class _ChunkLSH:
    """LSH over the banked chunks' MinHashes, in flat arrays: the signatures (uint32: datasketch's hash values
    are 32-bit) and, per band, the band keys sorted with their chunks. datasketch's MinHashLSH keeps the same
    bands in Python dicts of sets, about 11 kB a chunk (11 GB for a million); these arrays hold about 1 kB.
    The bands are datasketch's optimum for the threshold (b bands of r rows), so candidates are the same up
    to band-key collisions, which the exact Jaccard then sorts out."""

    # Odd 64-bit multipliers that fold a band's r hash values into one key (wrapping is intended).
    MIXERS = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                       0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9],
                      dtype=np.uint64)

    def __init__(self, signatures: np.ndarray, owners: np.ndarray, threshold: float) -> None:
        self.bands, self.rows = _optimal_param(threshold, textsig.NUM_PERM, 0.5, 0.5)
        if self.rows > len(self.MIXERS):
            raise ValueError(f"{self.rows} rows a band: more than the {len(self.MIXERS)} mixers")
        self.signatures, self.owners = signatures, owners
        keys = self.band_keys(signatures)  # (bands, chunks)
        self.order = np.argsort(keys, axis=1, kind="stable").astype(np.uint32)
        self.sorted_keys = np.take_along_axis(keys, self.order.astype(np.intp), axis=1)

    def band_keys(self, signatures: np.ndarray) -> np.ndarray:
        n = signatures.shape[0]
        bands = signatures[:, :self.bands * self.rows].astype(np.uint64).reshape(n, self.bands, self.rows)
        with np.errstate(over="ignore"):
            return (bands * self.MIXERS[:self.rows]).sum(axis=2, dtype=np.uint64).T.copy()

    def query(self, hashvalues: np.ndarray) -> np.ndarray:
        """The chunks sharing at least one band with this MinHash's hash values."""
        keys = self.band_keys(hashvalues[np.newaxis, :].astype(np.uint32))[:, 0]
        found = []
        for band, key in enumerate(keys):
            row = self.sorted_keys[band]
            start, stop = np.searchsorted(row, key, "left"), np.searchsorted(row, key, "right")
            if stop > start:
                found.append(self.order[band, start:stop])
        return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.uint32)

    def jaccard(self, chunks: np.ndarray, hashvalues: np.ndarray) -> np.ndarray:
        return (self.signatures[chunks] == hashvalues.astype(np.uint32)).mean(axis=1)


class HashIndex:
    def __init__(self, items: Iterable[tuple[HashList, Entry]], *, pdq_threshold: int = PDQ_THRESHOLD,
                 text_threshold: float = TEXT_MINHASH_THRESHOLD,
                 candidate_threshold: float | None = None) -> None:
        self.pdq_threshold = pdq_threshold
        self.text_threshold = text_threshold
        self._banked: list[_Banked] = []
        self._exact: dict[tuple[str, str], list[int]] = {}
        pdq: list[tuple[str, int]] = []
        chunks: list[np.ndarray] = []
        owners: list[int] = []
        for hash_list, entry in items:
            i = len(self._banked)
            self._banked.append(_Banked(hash_list, entry))
            if entry.signal_type in EXACT_SIGNALS:
                self._exact.setdefault((entry.signal_type, entry.value), []).append(i)
            elif entry.signal_type == "pdq":
                pdq.append((entry.value, i))
            elif entry.signal_type == "text_minhash":
                for chunk in textsig.parse_signature(entry.value):
                    chunks.append(chunk.hashvalues.astype(np.uint32))
                    owners.append(i)
            # video_md5 / video_sha256: kept in the lists, never met here (Vigil does not hash video)
        self._pdq = _PDQIndex(pdq_threshold)
        if pdq:
            self._pdq.add_all(pdq)
        lsh_threshold = min(text_threshold, candidate_threshold if candidate_threshold is not None
                            else min(LSH_CANDIDATE_THRESHOLD, text_threshold))
        self._text = _ChunkLSH(np.vstack(chunks), np.array(owners, dtype=np.uint32), lsh_threshold) if chunks \
            else None
        log.info("hash index: %d entries, %d PDQ, %d text chunks", len(self._banked), len(pdq), len(chunks))

    def __len__(self) -> int:
        return len(self._banked)

    def match_text(self, text: str) -> list[Match]:
        matches: list[Match] = []
        normalised = textsig.normalise(text)  # once: it is most of the cost of a page without matches
        if normalised:
            for i in self._exact.get(("text_exact", textsig.sha256_of(normalised)), ()):
                matches.append(self._banked[i].match(0.0, text.strip()[:EVIDENCE_CHARS]))
        for i, (similarity, evidence) in self.text_similarities(normalised).items():
            if similarity >= self.text_threshold:
                matches.append(self._banked[i].match(round(1.0 - similarity, 4), evidence[:EVIDENCE_CHARS]))
        return matches

    def text_similarities(self, normalised: str) -> dict[int, tuple[float, str]]:
        """Each candidate entry's best window-to-chunk Jaccard and that window's text, for a normalised text
        (the bench reads these to count false matches at several thresholds)."""
        best: dict[int, tuple[float, str]] = {}
        if self._text is None:
            return best
        for window in textsig.windows(normalised):
            candidates = self._text.query(window.minhash.hashvalues)
            if not len(candidates):
                continue
            similarities = self._text.jaccard(candidates, window.minhash.hashvalues)
            for owner, similarity in zip(self._text.owners[candidates].tolist(), similarities.tolist()):
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
