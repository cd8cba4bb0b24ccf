"""Fitting the first pass (classifiers/first_pass.py) to a transformer's own flags: the transformer labels the
texts, the linear model learns to send on everything the transformer flags or nearly flags, and its threshold
is the highest that keeps the wanted share of the transformer's flags on texts it was not fitted on.

int8 variants of a model flag slightly different texts, so the teacher may be several variants of one model:
a text counts as flagged when any of them flags it, and the recall kept is reported for each."""
from __future__ import annotations

import hashlib
import logging
from typing import Callable

import numpy as np
import torch

from classifiers.first_pass import FirstPass, chunk_ngrams
from classifiers.model import TextClassifier
from classifiers.training.examples import Example

log = logging.getLogger(__name__)

# A realistic mix for the teacher to label: forum posts, hate-speech tests, Arabic news, real tweets, the
# region's languages and Vigil's checks; mostly benign, as crawls are.
DEFAULT_DATA = ["stormfront:all", "hatecheck", "mhc:ar", "annotated:all", "regional", "checks"]
NEAR = 0.6  # a text scoring this share of a threshold counts as a flag while fitting: a margin for new text
HELD_OUT = 5  # one text in five, by its hash, measures the recall kept


def held_out(text: str) -> bool:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % HELD_OUT == 0


def teacher_flags(teacher: TextClassifier, texts: list[str], langs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Which texts the teacher flags, and how near each comes to a threshold (score / threshold, the highest)."""
    predictions = teacher.predict(texts, explain=False, langs=langs)
    flagged = np.array([p.flagged for p in predictions])
    nearness = np.array([max(p.scores[label] / max(teacher.threshold(label, lang), 1e-6)
                             for label in teacher.labels) for p, lang in zip(predictions, langs)])
    return flagged, nearness


def fit_first_pass(teachers: list[TextClassifier], examples: list[Example], recall: float = 0.99,
                   buckets: int = 2 ** 18, epochs: int = 12, seed: int = 0,
                   progress: Callable[[str], None] = log.info) -> FirstPass:
    """teachers: runtime variants of one model; the first pass keeps `recall` of the flags of any of them."""
    texts = [e.text for e in examples]
    langs = [e.lang for e in examples]
    each = []
    for teacher in teachers:
        progress(f"the teacher ({teacher.version}) scores {len(texts)} texts")
        each.append(teacher_flags(teacher, texts, langs))
    flagged = np.logical_or.reduce([f for f, _ in each])
    nearness = np.maximum.reduce([n for _, n in each])
    wanted = (flagged | (nearness >= NEAR)).astype(np.float32)
    test = np.array([held_out(text) for text in texts])
    if not flagged[test].any():
        raise ValueError(f"the teacher flags none of the {int(test.sum())} held-out texts: give data it flags "
                         "(--data), or the recall kept cannot be measured")

    chunks = [chunk_ngrams(text, buckets) for text in texts]
    train = np.flatnonzero(~test)
    torch.manual_seed(seed)
    embedding = torch.nn.EmbeddingBag(buckets, 1, mode="mean")
    torch.nn.init.zeros_(embedding.weight)
    bias = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.Adam([embedding.weight, bias], lr=0.05)
    positives = max(1.0, float(wanted[train].sum()))
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor((len(train) - positives) / positives))

    def document_logits(indices: np.ndarray) -> torch.Tensor:
        pieces = [chunks[i] for i in indices]
        flat = [c for doc in pieces for c in doc]
        owner = torch.tensor([n for n, doc in enumerate(pieces) for _ in doc])
        offsets = torch.tensor(np.cumsum([0] + [len(c) for c in flat[:-1]]))
        per_chunk = embedding(torch.from_numpy(np.concatenate(flat)), offsets).squeeze(1) + bias
        best = torch.full((len(pieces),), -1e9).scatter_reduce(0, owner, per_chunk, reduce="amax")
        return best  # a page is as suspect as its most suspect chunk

    generator = np.random.default_rng(seed)
    for epoch in range(epochs):
        order = generator.permutation(train)
        total = 0.0
        for start in range(0, len(order), 256):
            batch = order[start:start + 256]
            optimiser.zero_grad()
            loss = loss_fn(document_logits(batch), torch.from_numpy(wanted[batch]))
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        progress(f"first pass, epoch {epoch + 1}/{epochs}: loss {total / len(train):.4f}")

    weights = embedding.weight.detach().squeeze(1).numpy().astype(np.float16).astype(np.float32)
    version = teachers[0].version.split("+")[0]  # the model's, without the variant's "+torch-int8"
    model = FirstPass(weights, float(bias.detach()), 0.0, version, {})
    scores = model.scores([texts[i] for i in np.flatnonzero(test)])
    flag_scores = np.sort(scores[flagged[test]])
    threshold = float(flag_scores[int(np.floor((1 - recall) * len(flag_scores)))]) - 1e-4
    model.threshold = threshold
    sent_on = scores >= threshold
    model.report = {
        "teacher_version": version, "texts": len(texts), "held_out": int(test.sum()),
        "teacher_flags_held_out": int(flagged[test].sum()), "target_recall": recall,
        "recall_kept": float(sent_on[flagged[test]].mean()),
        "sent_on_share": float(sent_on.mean()),
        "fitted_sha256": hashlib.sha256(weights.tobytes()).hexdigest(),
    }
    if len(teachers) > 1:  # each variant's own flags, and the share of them kept
        model.report["variants"] = {
            teacher.version: {"flags_held_out": int(f[test].sum()),
                              "recall_kept": float(sent_on[f[test]].mean()) if f[test].any() else None}
            for teacher, (f, _) in zip(teachers, each)}
    progress(f"first pass: keeps {model.report['recall_kept']:.3f} of the teacher's "
             f"{model.report['teacher_flags_held_out']} held-out flags and sends "
             f"{model.report['sent_on_share']:.1%} of held-out texts on to it")
    return model
