"""A cheap first pass before the transformer: a linear model on hashed byte n-grams, trained against the
transformer's own flags (classifiers/training/first_pass.py). Documents it clears (most of a real crawl) are
never sent to the transformer; it was fitted to keep a stated share of the transformer's flags on held-out
text, and first_pass.npz says how much. `classifier.first_pass: true` switches it on.

Like the transformer's windows, a page is scored in chunks and keeps its highest chunk, so one violent
paragraph in a long benign page still reaches the transformer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILE = "first_pass.npz"
NGRAMS = (3, 4, 5, 6)  # bytes: 3-6 bytes are 1.5-3 letters of Cyrillic or Arabic, 3-6 of Latin
CHUNK_BYTES = 1200  # about one 128-token window of the transformer
MAX_CHUNKS = 8  # the transformer scores at most classifier.max_windows (8) windows of a page
_MULTIPLIER = np.uint64(0x9E3779B1)


def chunk_ngrams(text: str, buckets: int) -> list[np.ndarray]:
    """The hashed n-gram ids of each chunk of the normalised text (lower case, single spaces)."""
    data = np.frombuffer((" " + " ".join(text.lower().split()) + " ").encode("utf-8"), dtype=np.uint8)
    chunks = []
    for start in range(0, max(1, len(data)), CHUNK_BYTES)[:MAX_CHUNKS]:
        piece = data[start:start + CHUNK_BYTES + max(NGRAMS) - 1].astype(np.uint64)
        ids = []
        for n in NGRAMS:
            if len(piece) < n:
                continue
            value = np.zeros(len(piece) - n + 1, dtype=np.uint64)
            for offset in range(n):  # a polynomial hash of each n-gram, vectorised over the chunk
                value = value * _MULTIPLIER + piece[offset:len(piece) - n + 1 + offset] + np.uint64(n)
            ids.append((value >> np.uint64(17)) % np.uint64(buckets))
        chunks.append(np.concatenate(ids).astype(np.int64) if ids else np.zeros(1, dtype=np.int64))
    return chunks


@dataclass
class FirstPass:
    weights: np.ndarray  # one weight per hash bucket
    bias: float
    threshold: float  # a chunk at or above it sends the document to the transformer
    teacher_version: str  # the model whose flags it was fitted to keep
    report: dict  # what was measured on held-out text: recall of the teacher's flags, share sent on

    @property
    def version(self) -> str:
        return f"first-pass-{self.report.get('fitted_sha256', '')[:12]}"

    def scores(self, texts: list[str]) -> np.ndarray:
        """Each text's highest chunk logit."""
        buckets = len(self.weights)
        return np.array([max(float(self.weights[ids].mean()) for ids in chunk_ngrams(text, buckets)) + self.bias
                         for text in texts])

    def candidates(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(scores, whether each text goes on to the transformer)."""
        scores = self.scores(texts)
        return scores, scores >= self.threshold

    def save(self, directory: Path) -> Path:
        path = Path(directory) / FILE
        np.savez_compressed(path, weights=self.weights.astype(np.float16), bias=np.float32(self.bias),
                            threshold=np.float32(self.threshold),
                            meta=np.array(json.dumps({"teacher_version": self.teacher_version,
                                                      "report": self.report})))
        return path

    @classmethod
    def load(cls, directory: Path) -> "FirstPass | None":
        path = Path(directory) / FILE
        if not path.exists():
            return None
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            return cls(data["weights"].astype(np.float32), float(data["bias"]), float(data["threshold"]),
                       meta["teacher_version"], meta["report"])
