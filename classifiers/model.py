"""Batched multi-label inference over any Hugging Face sequence-classification model directory.

Split like a transformers pipeline: `preprocess` (windows and tokens), `forward` (the model),
`postprocess` (probabilities, labels over threshold, evidence sentences).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from classifiers.cpu import choose_runtime, cpu_features, onnx_available
from classifiers.first_pass import FILE as FIRST_PASS_FILE
from classifiers.first_pass import FirstPass
from classifiers.runtimes import OnnxModel, export_onnx, quantize_torch
from classifiers.thresholds import ThresholdSet
from streams.config import ClassifierSettings, VigilSettings

log = logging.getLogger(__name__)
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
        self.temperature = torch.ones(len(self.labels))
        self.by_language: dict[str, dict[str, float]] = {}
        self.thresholds_version: str | None = None
        self.reference: str | None = None  # what it was loaded as (a directory, hub id, "default")
        self.first_pass: FirstPass | None = None  # screens documents before the transformer, when switched on
        # Languages its validation had enough labelled cases in (vigil.json); None: the model does not say.
        self.validated_languages: frozenset[str] | None = None
        self.thresholds_file: Path | None = None
        self._thresholds_mtime: float | None = None

    @classmethod
    def from_pretrained(cls, path_or_id: str | Path, settings: ClassifierSettings | None = None,
                        data_dir: Path | None = None) -> "TextClassifier":
        """Load a model directory (or hub id); thresholds: vigil.json, then settings' overrides.
        ONNX exports of a hub model are cached under data_dir (a local model's beside it)."""
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
        if settings.runtime == "auto":
            choice = choose_runtime(cpu_features(), onnx_available())
            log.info("classifier.runtime auto: %s", choice)
            settings = settings.model_copy(update={"runtime": choice.runtime, "quantize": choice.quantize})
        variant = f"{settings.runtime}-{'int8' if settings.quantize == 'int8' else 'fp32'}"
        if variant == "torch-int8":
            model = quantize_torch(model)
        elif settings.runtime == "onnx":
            local = Path(str(path_or_id))
            data_dir = data_dir or VigilSettings.model_fields["data_dir"].default  # Vigil's default data_dir
            cache = settings.onnx_cache_dir or (local / "onnx" if local.is_dir() else Path(data_dir) / "onnx")
            exported = export_onnx(str(path_or_id), cache, version, settings.quantize == "int8")
            model = OnnxModel(exported, model.config, list(tokenizer.model_input_names), settings.threads)
        first_pass = None
        if settings.first_pass:
            first_pass = FirstPass.load(Path(str(path_or_id)))
            if first_pass is None:
                raise ValueError(f"classifier.first_pass is on, but {path_or_id} has no {FIRST_PASS_FILE}: run "
                                 f"`vigil first-pass --model {path_or_id}`")
            if first_pass.teacher_version != version:
                raise ValueError(f"the first pass in {path_or_id} was fitted to model {first_pass.teacher_version}, "
                                 f"not {version}: run `vigil first-pass --model {path_or_id}` again")
        if variant != "torch-fp32":
            version = f"{version}+{variant}"  # every flag records which variant scored it
        classifier = cls(model, tokenizer, name=meta.get("name") or Path(str(path_or_id)).name, version=version,
                         thresholds=thresholds, max_length=settings.max_length, batch_size=settings.batch_size,
                         max_windows=settings.max_windows, threads=settings.threads)
        classifier.reference = str(path_or_id)
        classifier.first_pass = first_pass
        # The model's own per-language thresholds, except for labels the settings set (a thresholds file may
        # replace them all).
        classifier.by_language = {lang: {label: t for label, t in chosen.items() if label not in settings.thresholds}
                                  for lang, chosen in meta.get("thresholds_by_language", {}).items()}
        languages = meta.get("validation", {}).get("languages")
        if languages is not None:
            classifier.validated_languages = frozenset(lang for lang, v in languages.items() if v.get("validated"))
        return classifier

    def language_validated(self, lang: str) -> bool | None:
        return None if self.validated_languages is None else lang in self.validated_languages

    # -- thresholds ---------------------------------------------------------------------------------
    def use_thresholds(self, chosen: ThresholdSet) -> None:
        """Apply a thresholds file (temperatures, per-label and per-language thresholds) fitted on this model."""
        if chosen.model_version != self.version:
            raise ValueError(f"thresholds {chosen.version} were fitted on model {chosen.model_version}, not on "
                             f"{self.version}; run `vigil thresholds` for this model")
        self.thresholds = {label: chosen.thresholds.get(label, self.thresholds[label]) for label in self.labels}
        self.temperature = torch.tensor([chosen.temperature.get(label, 1.0) for label in self.labels])
        self.by_language = chosen.by_language
        self.thresholds_version = chosen.version

    def watch_thresholds(self, path: Path, strict: bool = True) -> None:
        """Use a thresholds file and reload it when it changes. strict: fail if it cannot be used now."""
        self.thresholds_file = Path(path)
        self._thresholds_mtime = None
        problem = self.refresh_thresholds()
        if problem and strict:
            raise ValueError(f"classifier.thresholds_file: {problem}")

    def refresh_thresholds(self) -> str | None:
        """Reload the thresholds file if it changed (no restart needed). Returns why it could not be used,
        once per change of the file (the thresholds in effect stay), or None."""
        if self.thresholds_file is None:
            return None
        try:
            mtime = self.thresholds_file.stat().st_mtime
        except OSError as exc:
            mtime, problem = -1.0, f"{self.thresholds_file}: {exc.strerror}"  # -1: gone
            if self._thresholds_mtime != mtime:
                log.error("thresholds file not readable (keeping the thresholds in effect): %s", problem)
                self._thresholds_mtime = mtime
            return problem
        if mtime == self._thresholds_mtime:
            return None
        self._thresholds_mtime = mtime  # a bad file is reported once, not on every batch
        try:
            self.use_thresholds(ThresholdSet.read(self.thresholds_file))
        except ValueError as exc:
            log.error("thresholds file %s not applied (keeping %s): %s", self.thresholds_file,
                      self.thresholds_version or "the model's thresholds", exc)
            return str(exc)
        log.info("thresholds %s in effect: %s", self.thresholds_version, self.thresholds)
        return None

    def threshold(self, label: str, lang: str | None = None) -> float:
        return self.by_language.get(lang or "", {}).get(label, self.thresholds[label])

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
        logits = logits / self.temperature  # calibrated by the thresholds file in effect (1 = as trained)
        probs = torch.sigmoid(logits) if self.multi_label else torch.softmax(logits, dim=-1)
        return probs.float().numpy()

    def score_texts(self, texts: list[str]) -> np.ndarray:
        """Probabilities, one row per text, one column per label."""
        scores = np.zeros((len(texts), len(self.labels)), dtype=np.float32)
        for idx, encoded in self.preprocess(texts):
            scores[idx] = self.postprocess(self.forward(encoded))
        return scores

    def predict(self, texts: list[str], explain: bool = True, langs: list[str] | None = None) -> list[Prediction]:
        """Score each text over its windows (max per label); explain flagged labels with sentences.
        langs (one per text) selects per-language thresholds where the thresholds file has them."""
        langs = langs or [None] * len(texts)
        per_text = [self.windows(text) for text in texts]
        flat = [w.text for windows in per_text for w in windows]
        window_scores = self.score_texts(flat) if flat else np.zeros((0, len(self.labels)))
        predictions, blocks, offset = [], [], 0
        for windows, lang in zip(per_text, langs):
            block = window_scores[offset:offset + len(windows)]
            offset += len(windows)
            scores = {label: round(float(s), 6) for label, s in zip(self.labels, block.max(axis=0))}
            labels = [label for label in self.labels if scores[label] >= self.threshold(label, lang)]
            predictions.append(Prediction(scores=scores, labels=labels, flagged=bool(labels)))
            blocks.append(block)
        if explain:
            self.explain(per_text, blocks, predictions)
        return predictions

    def explain(self, per_text: list[list[Window]], blocks: list[np.ndarray], predictions: list[Prediction]) -> None:
        """For each flagged label, the sentences of its strongest window: each scored on its own, and its
        contribution by occlusion (how far the window's score falls without it). All sentences and
        occluded windows of a batch are scored in one batched pass."""
        candidates = []  # (prediction, label, column, window index, window score, sentence in document offsets)
        occluded = []
        for windows, block, prediction in zip(per_text, blocks, predictions):
            for label in prediction.labels:
                column = self.labels.index(label)
                best = int(block[:, column].argmax())
                window = windows[best]
                for s in sentences(window.text):
                    candidates.append((prediction, label, column, best, float(block[best, column]),
                                       Window(window.start + s.start, window.start + s.end, s.text)))
                    occluded.append(window.text[:s.start] + window.text[s.end:])
        if not candidates:
            return
        scores = self.score_texts([c[5].text for c in candidates] + occluded)
        alone, without = scores[:len(candidates)], scores[len(candidates):]
        by_label: dict[tuple[int, str], list[tuple[float, float, int, Window]]] = {}
        for (prediction, label, column, best, window_score, span), row, rest in zip(candidates, alone, without):
            contribution = window_score - float(rest[column])
            by_label.setdefault((id(prediction), label), []).append((float(row[column]), contribution, best, span))
        for prediction in predictions:
            for label in prediction.labels:
                ranked = sorted(by_label.get((id(prediction), label), []), key=lambda c: -c[0])
                for n, (score, contribution, best, span) in enumerate(ranked[:EVIDENCE_PER_LABEL]):
                    if n and score < self.thresholds[label] / 2:
                        break  # keep weak sentences out once the label has its strongest one
                    prediction.evidence.append({"label": label, "text": span.text.strip(), "score": round(score, 6),
                                                "start": span.start, "end": span.end, "window": best,
                                                "contribution": round(contribution, 6)})
