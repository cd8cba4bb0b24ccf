"""`vigil predict`: JSON lines with `id` and `text` in, JSON lines with scores, labels and evidence out."""
from __future__ import annotations

import json
from typing import Iterable, TextIO

from classifiers.model import TextClassifier


def predict_jsonl(classifier: TextClassifier, lines: Iterable[str], sink: TextIO, batch_size: int = 64) -> list[str]:
    """Score the texts in batches, writing one JSON line per good input line (blank lines skipped) and
    flushing after each batch. Returns what was wrong with each bad line, which is skipped."""
    batch: list[dict] = []
    problems: list[str] = []

    def flush() -> None:
        for row, prediction in zip(batch, classifier.predict([row["text"] for row in batch])):
            sink.write(json.dumps({"id": row["id"], "scores": prediction.scores, "labels": prediction.labels,
                                   "flagged": prediction.flagged, "evidence": prediction.evidence},
                                  ensure_ascii=False) + "\n")
        sink.flush()
        batch.clear()

    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str) or "id" not in row:
                raise ValueError("needs `id` and a string `text`")
        except ValueError as exc:
            problems.append(f"line {n}: {exc}")
            continue
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
    flush()
    return problems
