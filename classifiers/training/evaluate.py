"""`vigil evaluate`: how a model does per label, per language and on each hard-negative slice.

Per label (overall and per language): precision, recall, F1 and accuracy at the deployed threshold,
PR-AUC (average precision), recall at precision 0.9, calibration (ECE, Brier), flags per 10,000
documents, with bootstrap confidence intervals. Per slice: the false-positive rate on its negatives
(news, counter-speech, negation, identity mentions, ...) and the recall on its positives. Languages
or slices with too few cases are marked unvalidated. `compare` is the release gate: a candidate may
not raise any slice's false-positive rate by more than a margin over the baseline.
"""
from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from classifiers.training.examples import Example
from classifiers.training.metrics import CI_LEVEL, bootstrap, label_metrics

if TYPE_CHECKING:
    from classifiers.model import TextClassifier

MIN_SLICE_CASES = 10  # fewer and a slice's rate says little (its interval shows how little)


@dataclass
class Scored:
    examples: list[Example]
    labels: list[str]
    thresholds: dict[str, float]
    probabilities: np.ndarray  # examples x labels
    cutoffs: np.ndarray | None = None  # examples x labels: each example's threshold (per-language thresholds)

    @property
    def truth(self) -> np.ndarray:
        return np.array([[label in e.labels for label in self.labels] for e in self.examples], dtype=bool)

    @property
    def predicted(self) -> np.ndarray:
        if self.cutoffs is not None:
            return self.probabilities >= self.cutoffs
        return self.probabilities >= np.array([self.thresholds[label] for label in self.labels])


def score(classifier: TextClassifier, examples: list[Example], chunk: int = 256) -> Scored:
    """Scores over windows that cover each whole text, with progress on stderr."""
    probabilities = np.zeros((len(examples), len(classifier.labels)), dtype=np.float32)
    started = time.monotonic()
    for start in range(0, len(examples), chunk):
        part = examples[start:start + chunk]
        for i, prediction in enumerate(classifier.predict([e.text for e in part], explain=False)):
            probabilities[start + i] = [prediction.scores[label] for label in classifier.labels]
        done = start + len(part)
        print(f"\r  scoring {done}/{len(examples)} texts ({done / max(1e-9, time.monotonic() - started):.0f}/s)",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    cutoffs = np.array([[classifier.threshold(label, e.lang) for label in classifier.labels] for e in examples])
    return Scored(examples, list(classifier.labels), dict(classifier.thresholds), probabilities, cutoffs)


# -- the whole evaluation ---------------------------------------------------------------------------------
def evaluate(scored: Scored, *, rounds: int = 1000, seed: int = 13, min_support: int = 30) -> dict:
    truth, predicted, probabilities = scored.truth, scored.predicted, scored.probabilities
    languages = sorted({e.lang for e in scored.examples})
    lang_of = np.array([e.lang for e in scored.examples])
    labels = {}
    for j, label in enumerate(scored.labels):
        threshold = scored.thresholds[label]
        entry = {"overall": label_metrics(probabilities[:, j], truth[:, j], predicted[:, j], threshold, rounds, seed,
                                          min_support), "by_language": {}}
        for lang in languages:
            rows = lang_of == lang
            entry["by_language"][lang] = label_metrics(probabilities[rows, j], truth[rows, j], predicted[rows, j],
                                                       threshold, rounds, seed, min_support)
        labels[label] = entry

    flagged, positive = predicted.any(axis=1), truth.any(axis=1)
    caught = (predicted & truth).any(axis=1)
    slices = {}
    for name in sorted({e.slice for e in scored.examples if e.slice}):
        rows = np.array([e.slice == name for e in scored.examples])
        negatives, positives = rows & ~positive, rows & positive
        neg_flags = flagged[negatives]
        slices[name] = {
            "n": int(rows.sum()), "negatives": int(negatives.sum()), "positives": int(positives.sum()),
            "false_positive_rate": float(neg_flags.mean()) if len(neg_flags) else None,
            "false_positive_rate_ci": bootstrap(lambda idx: neg_flags[idx].mean(), len(neg_flags), rounds, seed)
            if len(neg_flags) else None,
            "recall": float(caught[positives].mean()) if positives.any() else None,
            "validated": int(rows.sum()) >= MIN_SLICE_CASES,
        }
    return {
        "model": {"labels": scored.labels, "thresholds": scored.thresholds},
        "violating_by_language": violating_by_language(scored),
        "data": {"examples": len(scored.examples),
                 "languages": {lang: int((lang_of == lang).sum()) for lang in languages},
                 "sha256": hashlib.sha256(json.dumps([[e.text, sorted(e.labels)] for e in scored.examples])
                                          .encode()).hexdigest()},
        "accuracy": float((flagged == positive).mean()),
        "labels": labels,
        "slices": slices,
        "settings": {"bootstrap_rounds": rounds, "seed": seed, "min_support": min_support, "ci_level": CI_LEVEL},
    }


def violating_by_language(scored: Scored) -> dict[str, dict]:
    """Per language, whether a text is flagged at all: the recall on texts with any label, and the
    false-positive rate on texts with none (what a reviewer's queue feels, whatever the label)."""
    flagged, positive = scored.predicted.any(axis=1), scored.truth.any(axis=1)
    caught = (scored.predicted & scored.truth).any(axis=1)
    lang_of = np.array([e.lang for e in scored.examples])
    figures = {}
    for lang in sorted(set(lang_of)):
        rows = lang_of == lang
        positives, negatives = rows & positive, rows & ~positive
        figures[lang] = {"n": int(rows.sum()), "positives": int(positives.sum()),
                         "recall": round(float(caught[positives].mean()), 4) if positives.any() else None,
                         "false_positive_rate": round(float(flagged[negatives].mean()), 4) if negatives.any()
                         else None}
    return figures


def compare(summary: dict, baseline: dict, margin: float) -> list[str]:
    """The release gate: every slice whose false-positive rate rose by more than margin over the baseline."""
    regressions = []
    for name, current in summary["slices"].items():
        before = baseline["slices"].get(name)
        if not before or current["false_positive_rate"] is None or before["false_positive_rate"] is None:
            continue
        if current["false_positive_rate"] > before["false_positive_rate"] + margin:
            regressions.append(f"{name}: false-positive rate {current['false_positive_rate']:.3f} against the "
                               f"baseline's {before['false_positive_rate']:.3f} (margin {margin:.3f})")
    return regressions
