"""Metrics on one label: counts, precision and recall at a threshold, PR-AUC, recall at a target
precision, calibration (ECE, Brier) and bootstrap intervals. Used by evaluation, calibration and training."""
from __future__ import annotations

import numpy as np

CI_LEVEL = 0.95


def counts(predicted: np.ndarray, truth: np.ndarray) -> dict[str, int]:
    return {"tp": int((predicted & truth).sum()), "fp": int((predicted & ~truth).sum()),
            "fn": int((~predicted & truth).sum()), "tn": int((~predicted & ~truth).sum())}


def _ratio(a, b):
    return a / b if b else float("nan")


def at_threshold(predicted: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    c = counts(predicted, truth)
    precision, recall = _ratio(c["tp"], c["tp"] + c["fp"]), _ratio(c["tp"], c["tp"] + c["fn"])
    f1 = _ratio(2 * precision * recall, precision + recall) if c["tp"] else (0.0 if truth.any() else float("nan"))
    # F1 of the negative class too, averaged with the positive's: how binary benchmarks (ArMPro) publish theirs.
    f1_negative = _ratio(2 * c["tn"], 2 * c["tn"] + c["fp"] + c["fn"])
    return {"precision": precision, "recall": recall, "f1": f1, "macro_f1": (f1 + f1_negative) / 2,
            "accuracy": _ratio(c["tp"] + c["tn"], len(truth)),
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
