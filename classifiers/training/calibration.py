"""`vigil thresholds`: calibrated scores and thresholds chosen from evidence, as a versioned file.

Temperature scaling (one temperature per label, fitted by likelihood on labelled data) turns scores
into calibrated probabilities; thresholds are then chosen per label, and per language where a language
has enough labelled cases, either for a target precision (the most recall that keeps precision at or
above the target) or for a reviewer budget (flags per day, given the documents crawled per day). The
result names the model version it was fitted on (classifiers/thresholds.py reads and writes it).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np

from classifiers.thresholds import ThresholdSet
from classifiers.training.evaluate import Scored, score
from classifiers.training.examples import Example
from classifiers.training.metrics import at_threshold

if TYPE_CHECKING:
    from classifiers.model import TextClassifier

EPSILON = 1e-7


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPSILON, 1 - EPSILON)
    return np.log(p / (1 - p))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def _bounded(threshold: float) -> float:
    return min(max(threshold, 1e-4), 1 - 1e-4)


def fit_temperature(probabilities: np.ndarray, truth: np.ndarray) -> float:
    """The temperature T minimising the log loss of sigmoid(logit / T) (a fine grid: one parameter)."""
    if truth.all() or not truth.any():
        return 1.0
    z, y = logit(probabilities), truth.astype(float)
    grid = np.exp(np.linspace(np.log(0.1), np.log(10), 401))
    losses = [-np.mean(y * np.log(np.clip(sigmoid(z / t), EPSILON, 1)) +
                       (1 - y) * np.log(np.clip(1 - sigmoid(z / t), EPSILON, 1))) for t in grid]
    return float(grid[int(np.argmin(losses))])


def threshold_for_precision(scores: np.ndarray, truth: np.ndarray, target: float) -> float | None:
    """The lowest threshold whose precision is at least target (the most recall); None if none reaches it."""
    order = np.argsort(-scores, kind="stable")
    ranked, hits = scores[order], truth[order]
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    # A cut can only fall between different scores: everything tied with the last one kept is kept too.
    cut_ok = np.append(ranked[1:] != ranked[:-1], True)
    candidates = np.flatnonzero(cut_ok & (precision >= target) & (np.cumsum(hits) > 0))
    return float(ranked[candidates[-1]]) if len(candidates) else None


def choose(scored: Scored, model_version: str, *, precision: float | None = None, flags_per_day: float | None = None,
           documents_per_day: float | None = None, per_language: bool = False, min_support: int = 30) -> ThresholdSet:
    """Fit temperatures, then pick thresholds for a target precision or a reviewer budget."""
    if (precision is None) == (flags_per_day is None):
        raise ValueError("give either a target precision or a budget (flags per day and documents per day)")
    truth = scored.truth
    temperature = {label: fit_temperature(scored.probabilities[:, j], truth[:, j])
                   for j, label in enumerate(scored.labels)}
    calibrated = np.column_stack([sigmoid(logit(scored.probabilities[:, j]) / temperature[label])
                                  for j, label in enumerate(scored.labels)])
    langs = np.array([e.lang for e in scored.examples])
    thresholds, by_language, notes = {}, {}, []
    if flags_per_day is not None:
        if not documents_per_day or documents_per_day <= 0:
            raise ValueError("a budget needs documents per day (how many documents the crawlers bring in)")
        rate = min(1.0, flags_per_day / documents_per_day)
        # One threshold on the calibrated probabilities: the top `rate` share of documents by their strongest label.
        shared = float(np.quantile(calibrated.max(axis=1), 1 - rate)) if rate < 1 else 0.5
        thresholds = {label: _bounded(shared) for label in scored.labels}
        target = {"flags_per_day": flags_per_day, "documents_per_day": documents_per_day}
    else:
        target = {"precision": precision}
        for j, label in enumerate(scored.labels):
            chosen = threshold_for_precision(calibrated[:, j], truth[:, j], precision)
            if chosen is None:
                notes.append(f"{label}: no threshold reaches precision {precision}; kept 0.5 (add labelled data)")
            thresholds[label] = _bounded(chosen if chosen is not None else 0.5)
            if per_language:
                for lang in sorted(set(langs)):
                    rows = langs == lang
                    if truth[rows, j].sum() >= min_support and (~truth[rows, j]).sum() >= min_support:
                        chosen = threshold_for_precision(calibrated[rows, j], truth[rows, j], precision)
                        if chosen is not None:
                            by_language.setdefault(lang, {})[label] = _bounded(chosen)
    expected = {}
    for j, label in enumerate(scored.labels):
        t = np.array([by_language.get(lang, {}).get(label, thresholds[label]) for lang in langs])
        m = at_threshold(calibrated[:, j] >= t, truth[:, j])
        expected[label] = {key: (None if isinstance(v, float) and np.isnan(v) else v)
                           for key, v in m.items() if key in ("precision", "recall", "flags_per_10k")}
    body = json.dumps([model_version, thresholds, temperature, by_language], sort_keys=True)
    version = f"thresholds-{datetime.now(timezone.utc):%Y%m%d}-{hashlib.sha256(body.encode()).hexdigest()[:8]}"
    return ThresholdSet(version=version, model_version=model_version, thresholds=thresholds, temperature=temperature,
                        by_language=by_language,
                        details={"target": target, "expected_on_data": expected, "notes": notes,
                                 "data_examples": len(scored.examples),
                                 "created_at": datetime.now(timezone.utc).isoformat()})


def fit_thresholds(classifier: TextClassifier, examples: list[Example], **goal) -> ThresholdSet:
    """`vigil thresholds`: fitted on the classifier's own scores (give it without a thresholds file);
    goal: choose's precision, or flags_per_day and documents_per_day, and per_language, min_support."""
    return choose(score(classifier, examples), classifier.version, **goal)
