"""`vigil train`: a classification head on a frozen Hugging Face encoder, reproducibly.

The encoder runs once to embed every text (embed.py); then the pooler and the classifier of a standard
`BertForSequenceClassification`-style head (head.py), optionally with the encoder's top layers, are
trained on those features (fit.py). The output is either a full model directory that `from_pretrained`
loads, or only the head (a few hundred KB) to be joined with the encoder later (the bundled default
model, classifiers/artifacts.py), with its vigil.json and model card (card.py).
"""
from __future__ import annotations

import hashlib
import json
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import transformers
from safetensors.torch import save_file
from transformers import AutoModel, AutoTokenizer

from classifiers.artifacts import HEAD_FILE, assemble, assemble_from_head, weights_sha256
from classifiers.model import VIGIL_FILE
from classifiers.training.card import model_card
from classifiers.training.embed import embed
from classifiers.training.examples import Example, split
from classifiers.training.fit import fit_head, pick_thresholds, predict_batches, targets
from classifiers.training.head import Head

MIN_SUPPORT = 30  # fewest positives and negatives for a language to count as validated, or to get its own threshold


def data_hash(examples: list[Example]) -> str:
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.text, sorted(e.labels), e.group]).encode("utf-8"))
    return digest.hexdigest()


def write_description(output: Path, meta: dict) -> None:
    """vigil.json and the model card written from it, beside the weights."""
    (output / VIGIL_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (output / "README.md").write_text(model_card(meta), encoding="utf-8")


def train(examples: list[Example], *, base_model: str, output: Path, labels: list[str] | None = None,
          head_only: bool = False, seed: int = 13, max_length: int = 128, epochs: int = 60, patience: int = 6,
          validation_share: float = 0.2, name: str = "vigil-model", data_description: str = "",
          base_model_name: str | None = None, train_layers: int = 1) -> dict:
    """Train a head on the frozen encoder and write the model directory (or only the head)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    in_data = {label for e in examples for label in e.labels}
    labels = labels or sorted(in_data)
    if not labels:
        raise ValueError("the training data has no labels; give --labels or label some rows")
    unknown = in_data - set(labels)
    if unknown:
        raise ValueError(f"the data has labels {sorted(unknown)} outside the label set {labels} "
                         f"({sum(bool(e.labels & unknown) for e in examples)} examples): fix the data, or add them "
                         "to --labels")
    train_set, validation = split(examples, validation_share, seed)
    if not train_set or not validation:
        raise ValueError(f"{len(examples)} examples in {len({e.group for e in examples})} source group(s) leave "
                         f"{len(train_set)} to train on and {len(validation)} to validate on (validation drops texts "
                         "that are also in training): give more distinct examples, or more sources (a `source` column)")
    print(f"vigil train: {len(train_set)} training and {len(validation)} validation examples, labels {labels}",
          file=sys.stderr)
    tokenizer = AutoTokenizer.from_pretrained(base_model)
    encoder = AutoModel.from_pretrained(base_model).eval()
    x = embed(encoder, tokenizer, [e.text for e in train_set], max_length, train_layers)
    xv = embed(encoder, tokenizer, [e.text for e in validation], max_length, train_layers)
    y, yv = targets(train_set, labels), targets(validation, labels)

    head = Head(encoder, len(labels), train_layers)
    fit = fit_head(head, x, y, xv, yv, epochs=epochs, patience=patience, seed=seed)
    probabilities = torch.sigmoid(predict_batches(head, xv, len(yv), len(labels))).numpy()
    chosen = pick_thresholds(probabilities, yv.numpy().astype(bool), labels)
    slices = {}
    for slice_name in sorted({e.slice for e in validation if e.slice}):
        rows = [i for i, e in enumerate(validation) if e.slice == slice_name]
        flagged = sum(any(probabilities[i, j] >= chosen[label]["threshold"] for j, label in enumerate(labels))
                      for i in rows)
        slices[slice_name] = {"n": len(rows), "flag_rate": round(flagged / len(rows), 4)}

    languages, by_language = {}, {}
    truth = yv.numpy().astype(bool)
    for lang in sorted({e.lang for e in validation}):
        rows = [i for i, e in enumerate(validation) if e.lang == lang]
        positives = int(truth[rows].any(axis=1).sum())
        languages[lang] = {"validation_examples": len(rows), "positives": positives,
                           "validated": positives >= MIN_SUPPORT and len(rows) - positives >= MIN_SUPPORT}
        # A language's own threshold only where it has enough cases of that label to choose one.
        for j, label in enumerate(labels):
            if min(truth[rows, j].sum(), (~truth[rows, j]).sum()) >= MIN_SUPPORT:
                own = pick_thresholds(probabilities[rows][:, [j]], truth[rows][:, [j]], [label])[label]["threshold"]
                if own != chosen[label]["threshold"]:
                    by_language.setdefault(lang, {})[label] = own

    head_state = head.state_for_bert()
    weights = hashlib.sha256(b"".join(t.numpy().tobytes() for _, t in sorted(head_state.items()))).hexdigest()
    version = f"{name}-{time.strftime('%Y%m%d')}-{weights[:8]}"  # names these weights, not only this data
    meta = {
        "name": name, "version": version, "labels": labels,
        "thresholds": {label: m["threshold"] for label, m in chosen.items()},
        "thresholds_by_language": by_language,
        "base_model": base_model_name or str(base_model), "base_model_sha256": weights_sha256(base_model),
        "architecture": f"its top {train_layers} layer(s), the pooler and the classifier trained on [CLS], the "
                        f"layers below frozen",
        "training": {"seed": seed, "data_sha256": data_hash(examples), "examples": len(train_set),
                     "languages": sorted({e.lang for e in examples}),
                     "validation_examples": len(validation), "max_length": max_length, **fit,
                     "data": data_description},
        "validation": {"per_label": chosen, "flag_rate_by_slice": slices, "languages": languages},
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "transformers": transformers.__version__},
    }
    output.mkdir(parents=True, exist_ok=True)
    if head_only:
        save_file(head_state, str(output / HEAD_FILE))
    else:
        assemble(base_model, head_state, labels, output)
    write_description(output, meta)
    return meta


def add_held_out_figures(output: Path, held_out: dict[str, list[Example]], base_model: str) -> dict:
    """Score sets never trained on with the written model, as the classify stage would (windows, per-language
    thresholds), and put the per-language figures in its vigil.json and model card. A head-only output is
    joined with its encoder in a temporary directory to be scored."""
    from classifiers.model import TextClassifier
    from classifiers.training.evaluate import score, violating_by_language

    meta = json.loads((output / VIGIL_FILE).read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="vigil-held-out-") as scratch:
        model_dir = output
        if (output / HEAD_FILE).exists():
            model_dir = Path(scratch)
            assemble_from_head(base_model, output, model_dir)
        classifier = TextClassifier.from_pretrained(model_dir)
        meta["evaluation"] = {}
        for spec, examples in held_out.items():
            print(f"vigil train: held-out evaluation on {spec}", file=sys.stderr)
            meta["evaluation"][spec] = violating_by_language(score(classifier, examples))
    write_description(output, meta)
    return meta
