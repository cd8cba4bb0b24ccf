"""Batched multi-label inference over any Hugging Face sequence-classification model directory.

Split like a transformers pipeline: `preprocess` (windows and tokens), `forward` (the model),
`postprocess` (probabilities, labels over threshold, evidence sentences).
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from streams.config import ClassifierSettings

VIGIL_FILE = "vigil.json"  # labels' thresholds, version and provenance, beside config.json
DEFAULT_THRESHOLD = 0.5
SENTENCE_END = re.compile(r"(?<=[.!?。！？؟])\s+|\n+")
EVIDENCE_PER_LABEL = 3


@dataclass
class Window:
    start: int  # character offsets in the document text
    end: int
    text: str


@dataclass
class Prediction:
    scores: dict[str, float]
    labels: list[str]
    flagged: bool
    evidence: list[dict] = field(default_factory=list)


def sentences(text: str) -> list[Window]:
    """Sentence spans with their character offsets."""
    spans, start = [], 0
    for match in SENTENCE_END.finditer(text):
        if text[start:match.start()].strip():
            spans.append(Window(start, match.start(), text[start:match.start()]))
        start = match.end()
    if text[start:].strip():
        spans.append(Window(start, len(text), text[start:]))
    return spans


class TextClassifier:
    def __init__(self, model, tokenizer, *, name: str, version: str, thresholds: dict[str, float],
                 max_length: int = 128, batch_size: int = 8, max_windows: int = 8):
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
        self.multi_label = model.config.problem_type != "single_label_classification"
        self.name = name
        self.version = version
        self.thresholds = {label: thresholds.get(label, DEFAULT_THRESHOLD) for label in self.labels}
        self.max_length = max_length
        self.batch_size = batch_size
        self.max_windows = max_windows

    @classmethod
    def from_pretrained(cls, path_or_id: str | Path, settings: ClassifierSettings | None = None) -> "TextClassifier":
        """Load a model directory (or hub id); thresholds: vigil.json, then settings' overrides."""
        settings = settings or ClassifierSettings()
        if settings.threads:
            torch.set_num_threads(settings.threads)
        tokenizer = AutoTokenizer.from_pretrained(str(path_or_id))
        model = AutoModelForSequenceClassification.from_pretrained(str(path_or_id))
        meta = {}
        meta_file = Path(path_or_id) / VIGIL_FILE
        if meta_file.exists():
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
        version = meta.get("version") or hashlib.sha256(model.config.to_json_string().encode()).hexdigest()[:12]
        thresholds = {**meta.get("thresholds", {}), **settings.thresholds}
        unknown = set(settings.thresholds) - set(model.config.id2label.values())
        if unknown:
            raise ValueError(f"classifier.thresholds names labels the model does not have: {sorted(unknown)} "
                             f"(model labels: {sorted(model.config.id2label.values())})")
        return cls(model, tokenizer, name=meta.get("name") or Path(str(path_or_id)).name, version=version,
                   thresholds=thresholds, max_length=settings.max_length, batch_size=settings.batch_size,
                   max_windows=settings.max_windows)

    # -- preprocess -------------------------------------------------------------------------------
    def windows(self, text: str) -> list[Window]:
        """Consecutive sentence groups of about max_length tokens, so a violating paragraph deep in a
        long page is scored too; at most max_windows of them."""
        spans = sentences(text[: self.max_length * 8 * self.max_windows])  # ~8 chars a token: no more is read
        if not spans:
            return [Window(0, len(text), text)]
        lengths = [len(ids) for ids in self.tokenizer([s.text for s in spans], add_special_tokens=False)["input_ids"]]
        budget = self.max_length - 2
        windows, first, used = [], 0, 0
        for i, n in enumerate(lengths):
            if used and used + n > budget:
                windows.append(Window(spans[first].start, spans[i - 1].end, text[spans[first].start:spans[i - 1].end]))
                first, used = i, 0
            used += n
        windows.append(Window(spans[first].start, spans[-1].end, text[spans[first].start:spans[-1].end]))
        return windows[: self.max_windows]

    def preprocess(self, texts: list[str]) -> list[tuple[list[int], dict]]:
        """Length-sorted batches (sorting is what makes batching pay on mixed lengths)."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batches = []
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            encoded = self.tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                     max_length=self.max_length, return_tensors="pt")
            batches.append((idx, encoded))
        return batches

    # -- forward ----------------------------------------------------------------------------------
    def forward(self, encoded: dict) -> torch.Tensor:
        with torch.inference_mode():
            return self.model(**encoded).logits

    # -- postprocess ------------------------------------------------------------------------------
    def postprocess(self, logits: torch.Tensor) -> np.ndarray:
        probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
        return probs.float().numpy()

    def score_texts(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one row per text, one column per label."""
        scores = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for idx, encoded in self.preprocess(texts):
            scores[idx] = self.postprocess(self.forward(encoded))
        return scores

    def predict(self, texts: list[str], explain: bool = True) -> list[Prediction]:
        """Score each text over its windows (max per label); explain flagged labels with sentences."""
        per_text = [self.windows(text) for text in texts]
        flat = [w.text for windows in per_text for w in windows]
        window_scores = self.score_texts(flat) if flat else np.zeros((0, len(self.labels)))
        predictions, offset = [], 0
        for text, windows in zip(texts, per_text):
            block = window_scores[offset:offset + len(windows)]
            offset += len(windows)
            doc_scores = block.max(axis=0)
            scores = {label: round(float(s), 6) for label, s in zip(self.labels, doc_scores)}
            labels = [label for label in self.labels if scores[label] >= self.thresholds[label]]
            evidence = self.explain(text, windows, block, labels) if explain and labels else []
            predictions.append(Prediction(scores=scores, labels=labels, flagged=bool(labels), evidence=evidence))
        return predictions

    def explain(self, text: str, windows: list[Window], window_scores: np.ndarray, labels: list[str]) -> list[dict]:
        """For each flagged label, the sentences of its strongest window that score highest on their own."""
        evidence = []
        for label in labels:
            column = self.labels.index(label)
            best = int(window_scores[:, column].argmax())
            window = windows[best]
            spans = [Window(window.start + s.start, window.start + s.end, s.text) for s in sentences(window.text)]
            if not spans:
                continue
            sentence_scores = self.score_texts([s.text for s in spans])[:, column]
            for i in np.argsort(-sentence_scores)[:EVIDENCE_PER_LABEL]:
                if evidence and sentence_scores[i] < self.thresholds[label] / 2 and any(
                        e["label"] == label for e in evidence):
                    break  # keep weak sentences out once the label has its strongest one
                evidence.append({"label": label, "text": spans[i].text.strip(), "score": round(float(sentence_scores[i]), 6),
                                 "start": spans[i].start, "end": spans[i].end, "window": best})
        return evidence
