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

from classifiers.datasets import Example

if TYPE_CHECKING:
    from classifiers.model import TextClassifier

CI_LEVEL = 0.95
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


# -- metrics on one label ---------------------------------------------------------------------------------
def counts(predicted: np.ndarray, truth: np.ndarray) -> dict[str, int]:
    return {"tp": int((predicted & truth).sum()), "fp": int((predicted & ~truth).sum()),
            "fn": int((~predicted & truth).sum()), "tn": int((~predicted & ~truth).sum())}


def _ratio(a, b):
    return a / b if b else float("nan")


def at_threshold(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    c = counts(predicted, truth)
    precision, recall = _ratio(c["tp"], c["tp"] + c["fp"]), _ratio(c["tp"], c["tp"] + c["fn"])
    f1 = _ratio(2 * precision * recall, precision + recall) if c["tp"] else (0.0 if truth.any() else float("nan"))
    return {"precision": precision, "recall": recall, "f1": f1, "accuracy": _ratio(c["tp"] + c["tn"], len(truth)),
            "flags_per_10k": 10_000 * _ratio(c["tp"] + c["fp"], len(truth)), **c}


def average_precision(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """Area under the precision-recall curve, as the mean precision at each positive's rank."""
    if not truth.any():
        return float("nan")
    order = np.argsort(-probabilities, kind="stable")
    hits = truth[order]
    precision_at = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision_at[hits].mean())


def pr_curve(probabilities: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(-probabilities, kind="stable")
    hits = truth[order]
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / max(1, truth.sum())
    return precision, recall, probabilities[order]


def recall_at_precision(probabilities: np.ndarray, truth: np.ndarray, target: float = 0.9) -> dict[str, float]:
    """The most recall any threshold gives at precision >= target, and that threshold."""
    if not truth.any():
        return {"recall": float("nan"), "threshold": float("nan")}
    precision, recall, thresholds = pr_curve(probabilities, truth)
    ok = precision >= target
    if not ok.any():
        return {"recall": 0.0, "threshold": float("nan")}
    best = int(np.argmax(np.where(ok, recall, -1)))
    return {"recall": float(recall[best]), "threshold": float(thresholds[best])}


def calibration(probabilities: np.ndarray, truth: np.ndarray, bins: int = 10) -> dict:
    """Expected calibration error over equal-width bins, the Brier score, and the reliability diagram's points."""
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    points, ece = [], 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            confidence, observed = float(probabilities[inside].mean()), float(truth[inside].mean())
            ece += inside.mean() * abs(confidence - observed)
            points.append({"bin": b, "n": int(inside.sum()), "mean_score": confidence, "observed_rate": observed})
    return {"ece": float(ece), "brier": float(np.mean((probabilities - truth) ** 2)), "reliability": points}


def bootstrap(statistic, n: int, rounds: int, seed: int) -> tuple[float, float]:
    """Percentile interval of statistic(indices) over resamples of the examples."""
    if n == 0 or rounds == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = np.array([statistic(rng.integers(0, n, n)) for _ in range(rounds)], dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan"), float("nan")
    tail = (1 - CI_LEVEL) / 2 * 100
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def label_metrics(probabilities: np.ndarray, truth: np.ndarray, predicted: np.ndarray, threshold: float, rounds: int,
                  seed: int, min_support: int) -> dict:
    metrics = at_threshold(predicted, truth)
    metrics["pr_auc"] = average_precision(probabilities, truth)
    metrics["recall_at_precision_0.9"] = recall_at_precision(probabilities, truth)
    metrics.update({key: value for key, value in calibration(probabilities, truth).items() if key != "reliability"})
    for name in ("precision", "recall", "f1", "accuracy"):
        metrics[f"{name}_ci"] = bootstrap(lambda idx: at_threshold(predicted[idx], truth[idx])[name],
                                          len(truth), rounds, seed)
    positives, negatives = int(truth.sum()), int((~truth).sum())
    metrics.update(n=len(truth), positives=positives, negatives=negatives, threshold=threshold,
                   validated=positives >= min_support and negatives >= min_support)
    return metrics


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
        "data": {"examples": len(scored.examples), "languages": {lang: int((lang_of == lang).sum()) for lang in languages},
                 "sha256": hashlib.sha256(json.dumps([[e.text, sorted(e.labels)] for e in scored.examples])
                                          .encode()).hexdigest()},
        "accuracy": float((flagged == positive).mean()),
        "labels": labels,
        "slices": slices,
        "settings": {"bootstrap_rounds": rounds, "seed": seed, "min_support": min_support, "ci_level": CI_LEVEL},
    }


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
