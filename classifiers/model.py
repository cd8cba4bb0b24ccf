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

from classifiers.fast import OnnxModel, export_onnx, quantize_torch
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
                 max_length: int = 128, batch_size: int = 8, max_windows: int = 8, threads: int | None = None):
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
        # torch's thread count applies to the thread that sets it, so forward() applies it where it runs;
        # others may change this attribute (to leave a core to a crawler running alongside).
        self.threads = threads or torch.get_num_threads()

    @classmethod
    def from_pretrained(cls, path_or_id: str | Path, settings: ClassifierSettings | None = None) -> "TextClassifier":
        """Load a model directory (or hub id); thresholds: vigil.json, then settings' overrides."""
        settings = settings or ClassifierSettings()
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
        variant = f"{settings.runtime}-{'int8' if settings.quantize == 'int8' else 'fp32'}"
        if variant == "torch-int8":
            model = quantize_torch(model)
        elif settings.runtime == "onnx":
            local = Path(str(path_or_id))
            cache = settings.onnx_cache_dir or (local / "onnx" if local.is_dir() else Path(".vigil") / "onnx")
            exported = export_onnx(str(path_or_id), tokenizer, cache, version, settings.quantize == "int8")
            model = OnnxModel(exported, model.config, list(tokenizer.model_input_names), settings.threads)
        if variant != "torch-fp32":
            version = f"{version}+{variant}"  # every flag records which variant scored it
        return cls(model, tokenizer, name=meta.get("name") or Path(str(path_or_id)).name, version=version,
                   thresholds=thresholds, max_length=settings.max_length, batch_size=settings.batch_size,
                   max_windows=settings.max_windows, threads=settings.threads)

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
        if torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)
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
        predictions, blocks, offset = [], [], 0
        for windows in per_text:
            block = window_scores[offset:offset + len(windows)]
            offset += len(windows)
            scores = {label: round(float(s), 6) for label, s in zip(self.labels, block.max(axis=0))}
            labels = [label for label in self.labels if scores[label] >= self.thresholds[label]]
            predictions.append(Prediction(scores=scores, labels=labels, flagged=bool(labels)))
            blocks.append(block)
        if explain:
            self.explain(per_text, blocks, predictions)
        return predictions

    def explain(self, per_text: list[list[Window]], blocks: list[np.ndarray], predictions: list[Prediction]) -> None:
        """For each flagged label, the sentences of its strongest window that score highest on their own.
        The sentences of every flagged document are scored in one batched pass."""
        candidates = []  # (prediction, label, column, window index, sentence span in document offsets)
        for windows, block, prediction in zip(per_text, blocks, predictions):
            for label in prediction.labels:
                column = self.labels.index(label)
                best = int(block[:, column].argmax())
                window = windows[best]
                for s in sentences(window.text):
                    candidates.append((prediction, label, column, best,
                                       Window(window.start + s.start, window.start + s.end, s.text)))
        if not candidates:
            return
        scores = self.score_texts([c[4].text for c in candidates])
        by_label: dict[tuple[int, str], list[tuple[float, int, Window]]] = {}
        for (prediction, label, column, best, span), row in zip(candidates, scores):
            by_label.setdefault((id(prediction), label), []).append((float(row[column]), best, span))
        for prediction in predictions:
            for label in prediction.labels:
                ranked = sorted(by_label.get((id(prediction), label), []), key=lambda c: -c[0])
                for n, (score, best, span) in enumerate(ranked[:EVIDENCE_PER_LABEL]):
                    if n and score < self.thresholds[label] / 2:
                        break  # keep weak sentences out once the label has its strongest one
                    prediction.evidence.append({"label": label, "text": span.text.strip(), "score": round(score, 6),
                                                "start": span.start, "end": span.end, "window": best})
