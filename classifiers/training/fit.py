"""Fitting the head on the embedded texts, and choosing its first thresholds on validation."""
from __future__ import annotations

import math
import sys

import numpy as np
import torch

from classifiers.training.embed import Features
from classifiers.training.examples import Example
from classifiers.training.head import Head
from classifiers.training.metrics import at_threshold


def targets(examples: list[Example], labels: list[str]) -> torch.Tensor:
    return torch.tensor([[float(label in e.labels) for label in labels] for e in examples])


def predict_batches(head: Head, features: Features, n: int, num_labels: int) -> torch.Tensor:
    head.eval()
    logits = torch.zeros(n, num_labels)
    with torch.no_grad():
        for idx, hidden, mask in features.batches:
            logits[idx] = head(hidden, mask)
    return logits


def fit_head(head: Head, train_features: Features, y: torch.Tensor, val_features: Features, yv: torch.Tensor, *,
             epochs: int, patience: int, seed: int) -> dict:
    """AdamW on BCE with positive weighting; early stopping on validation loss."""
    torch.manual_seed(seed)
    positives = y.sum(0).clamp(min=1)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=((len(y) - positives) / positives).clamp(max=20))
    optimiser = torch.optim.AdamW([
        {"params": head.layers.parameters(), "lr": 5e-5},
        {"params": [*head.pooler_dense.parameters(), *head.classifier.parameters()], "lr": 3e-4},
    ], weight_decay=0.01)
    best, best_state, waited, history = float("inf"), None, 0, []
    generator = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        head.train()
        for b in torch.randperm(len(train_features.batches), generator=generator).tolist():
            idx, hidden, mask = train_features.batches[b]
            optimiser.zero_grad()
            loss_fn(head(hidden, mask), y[idx]).backward()
            optimiser.step()
        val_loss = loss_fn(predict_batches(head, val_features, len(yv), yv.shape[1]), yv).item() if len(yv) else 0.0
        history.append(val_loss)
        if val_loss < best - 1e-4:
            best, best_state, waited = val_loss, {k: v.clone() for k, v in head.state_dict().items()}, 0
        else:
            waited += 1
            if waited >= patience:
                break
        print(f"\r  epoch {epoch + 1}: validation loss {val_loss:.4f} (best {best:.4f})", end="", file=sys.stderr,
              flush=True)
    print(file=sys.stderr)
    if best_state is not None:
        head.load_state_dict(best_state)
    return {"epochs_run": len(history), "best_validation_loss": round(best, 5)}


def metrics_at(probabilities: np.ndarray, truth: np.ndarray, threshold: float) -> dict:
    """Precision, recall and F1 at one threshold, as the model card reports them (undefined counts as 0)."""
    m = at_threshold(probabilities >= threshold, truth)
    defined = {name: 0.0 if math.isnan(m[name]) else round(m[name], 4) for name in ("precision", "recall", "f1")}
    return {"threshold": float(threshold), **defined, "support": int(truth.sum())}


# Above 0.9 in steps of 0.01: a model trained on thousands of real posts is sure of most of its flags, and the
# best F1 lay there, beyond the old grid's edge.
THRESHOLD_GRID = np.round(np.concatenate([np.arange(0.3, 0.875, 0.05), np.arange(0.9, 0.955, 0.01)]), 2)


def pick_thresholds(probabilities: np.ndarray, truth: np.ndarray, labels: list[str]) -> dict[str, dict]:
    """Per label, the threshold in [0.3, 0.95] with the best F1 on validation (ties: the higher one), on
    THRESHOLD_GRID."""
    chosen = {}
    for j, label in enumerate(labels):
        candidates = [metrics_at(probabilities[:, j], truth[:, j], t) for t in THRESHOLD_GRID]
        chosen[label] = max(candidates, key=lambda m: (m["f1"], m["threshold"]))
    return chosen
