"""Reviewed items as training data, with a frozen evaluation set that is never trained on.

A decision becomes labels: corrected labels when the reviewer gave them; a confirmed flag keeps the
model's labels; a dismissed flag becomes a negative; an escalation without corrected labels is left
out (nobody has decided yet). Which documents are frozen for evaluation depends only on the document
id (a hash), so a document stays on its side across exports, and retraining never sees the frozen set.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from streams.stores import Store


def is_frozen(document_id: str, share: float) -> bool:
    return int(hashlib.sha256(document_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def labels_from_review(document: dict) -> list[str] | None:
    review = document["review"]
    if review.get("corrected_labels") is not None:
        return sorted(review["corrected_labels"])
    return {"confirmed": sorted(document["labels"]), "dismissed": []}.get(review["status"])


def export_reviews(store: Store, directory: Path, frozen_share: float = 0.2) -> Counter:
    """Write train.jsonl and frozen-eval.jsonl (JSON lines that `vigil train` and `vigil evaluate` read)."""
    directory.mkdir(parents=True, exist_ok=True)
    counts: Counter = Counter()
    with (directory / "train.jsonl").open("w", encoding="utf-8") as train, \
            (directory / "frozen-eval.jsonl").open("w", encoding="utf-8") as frozen:
        for document in store.reviewed():
            labels = labels_from_review(document)
            if labels is None:
                counts["left_out_undecided"] += 1
                continue
            frozen_side = is_frozen(document["id"], frozen_share)
            row = {"id": document["id"], "text": document["text"], "labels": labels, "lang": document["lang"],
                   "source": document["source"], "decision": document["review"]["status"],
                   "model_version": document["model_version"], "frozen": frozen_side}
            (frozen if frozen_side else train).write(json.dumps(row, ensure_ascii=False) + "\n")
            counts["frozen" if frozen_side else "train"] += 1
    return counts

