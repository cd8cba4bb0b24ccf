"""`vigil train`: a classification head on a frozen Hugging Face encoder, reproducibly.

The encoder runs once to embed every text ([CLS] hidden state); then the pooler and the
classifier of a standard `BertForSequenceClassification`-style head are trained on those
features. The output is either a full model directory that `from_pretrained` loads, or only
the head (a few hundred KB) to be joined with the encoder later (the bundled default model).
"""
from __future__ import annotations

import copy
import csv
import hashlib
import json
import logging
import platform
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoConfig, AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from classifiers.augment import counter_speech
from classifiers.datasets import Example
from classifiers.labels import DEFAULT_LABELS, DEFINITIONS
from classifiers.model import VIGIL_FILE
from classifiers.seed import seed_examples

log = logging.getLogger(__name__)
HEAD_FILE = "head.safetensors"


def shared_negatives(shared_data: Path, seed: int, stormfront_sample: int = 1500) -> list[Example]:
    """Hard negatives from the public datasets: HateCheck's non-hateful cases (counter-speech, negation,
    identity mentions) and a sample of Stormfront's noHate sentences. Neither set has our labels' positives."""
    examples = []
    with (shared_data / "hatecheck" / "test_suite_cases.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["label_gold"] == "non-hateful":
                examples.append(Example(row["test_case"], frozenset(), f"hatecheck-{row['functionality']}",
                                        row["functionality"]))
    with (shared_data / "stormfront-de-gibert-2018" / "stormfront_sentences.csv").open(encoding="utf-8") as handle:
        no_hate = [row for row in csv.DictReader(handle) if row["label"] == "noHate" and len(row["text"]) > 30]
    for row in random.Random(seed).sample(no_hate, min(stormfront_sample, len(no_hate))):
        examples.append(Example(row["text"], frozenset(), f"stormfront-{row['file_id'][:6]}", "stormfront_nohate"))
    return examples


def default_recipe(shared_data: Path, seed: int) -> list[Example]:
    seeds = [Example(e["text"], frozenset(e["labels"]), e["group"], e["slice"]) for e in seed_examples(seed)]
    return seeds + counter_speech(seeds, list(DEFAULT_LABELS), seed) + shared_negatives(shared_data, seed)


def split(examples: list[Example], validation_share: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Hold out a share of the groups of every slice (so each slice is validated on groups it was not
    trained on), then drop validation texts that also occur in training (de-duplication)."""
    rng = random.Random(seed)
    held_out = set()
    for slice_name in sorted({e.slice for e in examples}):
        groups = sorted({e.group for e in examples if e.slice == slice_name})
        rng.shuffle(groups)
        if len(groups) > 1:
            held_out.update(groups[: max(1, round(len(groups) * validation_share))])
    train = [e for e in examples if e.group not in held_out]
    seen = {" ".join(e.text.lower().split()) for e in train}
    validation = [e for e in examples if e.group in held_out and " ".join(e.text.lower().split()) not in seen]
    return train, validation


@dataclass
class Features:
    """What the frozen part of the encoder produces for each length-sorted batch: the input of the
    top layer (hidden states and the attention mask as the model built it), or [CLS] states."""
    batches: list[tuple[list[int], torch.Tensor, object]]


def embed(encoder, tokenizer, texts: list[str], max_length: int, train_layers: int, batch_size: int = 32) -> Features:
    """Run the frozen encoder once, keeping the input of the first trainable layer (or the [CLS]
    output when only the head trains). Length-sorted batches; progress on stderr."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    captured = {}
    hook = None
    if train_layers:
        first = encoder.encoder.layer[-train_layers]

        def keep_inputs(module, args, kwargs):
            captured["hidden"] = args[0] if args else kwargs["hidden_states"]
            captured["mask"] = args[1] if len(args) > 1 else kwargs.get("attention_mask")
        hook = first.register_forward_pre_hook(keep_inputs, with_kwargs=True)
    batches = []
    started = time.monotonic()
    try:
        with torch.no_grad():  # not inference_mode: the kept tensors feed layers that train
            for n, start in enumerate(range(0, len(order), batch_size)):
                idx = order[start:start + batch_size]
                encoded = tokenizer([texts[i] for i in idx], padding=True, truncation=True, max_length=max_length,
                                    return_tensors="pt")
                output = encoder(**encoded).last_hidden_state
                if train_layers:
                    mask = captured["mask"]
                    batches.append((idx, captured["hidden"].clone(), mask.clone() if mask is not None else None))
                else:
                    batches.append((idx, output[:, 0].clone(), None))
                done = min(start + batch_size, len(texts))
                if n % 10 == 0 or done == len(texts):
                    rate = done / max(1e-9, time.monotonic() - started)
                    print(f"\r  embedding {done}/{len(texts)} texts ({rate:.0f}/s)", end="", file=sys.stderr, flush=True)
    finally:
        if hook is not None:
            hook.remove()
    print(file=sys.stderr)
    return Features(batches)


class Head(torch.nn.Module):
    """The trainable top: optionally the encoder's last layers, then BERT's pooler (dense + tanh on
    [CLS]) and the classifier, saved under the names BertForSequenceClassification uses."""

    def __init__(self, encoder, num_labels: int, train_layers: int, dropout: float = 0.1):
        super().__init__()
        hidden = encoder.config.hidden_size
        total = encoder.config.num_hidden_layers
        self.layer_names = [f"bert.encoder.layer.{i}" for i in range(total - train_layers, total)]
        self.layers = torch.nn.ModuleList(copy.deepcopy(encoder.encoder.layer[i])
                                          for i in range(total - train_layers, total))
        self.pooler_dense = torch.nn.Linear(hidden, hidden)
        if getattr(encoder, "pooler", None) is not None:  # start from the encoder's own pooler
            self.pooler_dense.load_state_dict(encoder.pooler.dense.state_dict())
        self.dropout = torch.nn.Dropout(dropout)
        self.classifier = torch.nn.Linear(hidden, num_labels)

    def forward(self, hidden: torch.Tensor, mask) -> torch.Tensor:
        for layer in self.layers:
            out = layer(hidden, mask)
            hidden = out[0] if isinstance(out, tuple) else out
        cls = hidden[:, 0] if hidden.dim() == 3 else hidden
        return self.classifier(self.dropout(torch.tanh(self.pooler_dense(cls))))

    def state_for_bert(self) -> dict[str, torch.Tensor]:
        state = {"bert.pooler.dense.weight": self.pooler_dense.weight, "bert.pooler.dense.bias": self.pooler_dense.bias,
                 "classifier.weight": self.classifier.weight, "classifier.bias": self.classifier.bias}
        for name, layer in zip(self.layer_names, self.layers):
            state.update({f"{name}.{key}": value for key, value in layer.state_dict().items()})
        return {key: value.detach().clone().contiguous() for key, value in state.items()}


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
    predicted = probabilities >= threshold
    tp = int((predicted & truth).sum())
    fp = int((predicted & ~truth).sum())
    fn = int((~predicted & truth).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"threshold": float(threshold), "precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "support": int(truth.sum())}


def pick_thresholds(probabilities: np.ndarray, truth: np.ndarray, labels: list[str]) -> dict[str, dict]:
    """Per label, the threshold in [0.3, 0.9] with the best F1 on validation (ties: the higher one)."""
    chosen = {}
    for j, label in enumerate(labels):
        candidates = [metrics_at(probabilities[:, j], truth[:, j], t) for t in np.round(np.arange(0.3, 0.91, 0.05), 2)]
        chosen[label] = max(candidates, key=lambda m: (m["f1"], m["threshold"]))
    return chosen


def weights_sha256(model_dir: str | Path) -> str | None:
    """Hash of a local encoder's weights, so a head is only ever joined with the encoder it was trained on."""
    path = Path(model_dir) / "model.safetensors"
    if not path.exists():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_hash(examples: list[Example]) -> str:
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps([e.text, sorted(e.labels), e.group]).encode("utf-8"))
    return digest.hexdigest()


def train(examples: list[Example], *, base_model: str, output: Path, labels: list[str] | None = None,
          head_only: bool = False, seed: int = 13, max_length: int = 128, epochs: int = 60, patience: int = 6,
          validation_share: float = 0.2, name: str = "vigil-model", data_description: str = "",
          base_model_name: str | None = None, train_layers: int = 1) -> dict:
    """Train a head on the frozen encoder and write the model directory (or only the head)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    labels = labels or sorted({label for e in examples for label in e.labels})
    if not labels:
        raise ValueError("the training data has no labels; give --labels or label some rows")
    train_set, validation = split(examples, validation_share, seed)
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

    languages = {}
    for lang in sorted({e.lang for e in validation}):
        rows = [e for e in validation if e.lang == lang]
        positives = sum(bool(e.labels & set(labels)) for e in rows)
        languages[lang] = {"validation_examples": len(rows), "positives": positives,
                           "validated": positives >= 30 and len(rows) - positives >= 30}

    head_state = head.state_for_bert()
    weights = hashlib.sha256(b"".join(t.numpy().tobytes() for _, t in sorted(head_state.items()))).hexdigest()
    version = f"{name}-{time.strftime('%Y%m%d')}-{weights[:8]}"  # names these weights, not only this data
    meta = {
        "name": name, "version": version, "labels": labels,
        "thresholds": {label: m["threshold"] for label, m in chosen.items()},
        "base_model": base_model_name or str(base_model), "base_model_sha256": weights_sha256(base_model),
        "architecture": f"its top {train_layers} layer(s), the pooler and the classifier trained on [CLS], the "
                        f"layers below frozen",
        "training": {"seed": seed, "data_sha256": data_hash(examples), "examples": len(train_set),
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
    (output / VIGIL_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (output / "README.md").write_text(model_card(meta), encoding="utf-8")
    return meta


def assemble(base_model: str, head_state: dict[str, torch.Tensor], labels: list[str], output: Path) -> None:
    """Encoder + head -> a model directory AutoModelForSequenceClassification.from_pretrained loads."""
    transformers.logging.set_verbosity_error()  # the "classifier MISSING" load report is expected here
    config = AutoConfig.from_pretrained(base_model, num_labels=len(labels), problem_type="multi_label_classification",
                                        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = AutoModelForSequenceClassification.from_pretrained(base_model, config=config)
    missing = model.load_state_dict(head_state, strict=False)
    if missing.unexpected_keys:
        raise ValueError(f"head does not fit {base_model}: unexpected {missing.unexpected_keys}")
    model.save_pretrained(output)
    AutoTokenizer.from_pretrained(base_model).save_pretrained(output)


def assemble_from_head(base_model: str, head_dir: Path, output: Path) -> None:
    """Join a head-only artifact (head.safetensors + vigil.json) with its encoder into a full directory."""
    meta = json.loads((head_dir / VIGIL_FILE).read_text(encoding="utf-8"))
    assemble(base_model, load_file(str(head_dir / HEAD_FILE)), meta["labels"], output)
    (output / VIGIL_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    (output / "README.md").write_text((head_dir / "README.md").read_text(encoding="utf-8"), encoding="utf-8")


def model_card(meta: dict) -> str:
    per_label = "\n".join(
        f"| {label} | {m['threshold']} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |"
        for label, m in meta["validation"]["per_label"].items())
    slices = "\n".join(f"| {name} | {s['n']} | {s['flag_rate']} |"
                       for name, s in meta["validation"]["flag_rate_by_slice"].items())
    definitions = "\n".join(f"- `{label}`: {DEFINITIONS.get(label, '(custom label)')}" for label in meta["labels"])
    languages = "\n".join(
        f"| {lang} | {v['validation_examples']} | {v['positives']} | {'yes' if v['validated'] else 'no (too few cases)'} |"
        for lang, v in meta["validation"].get("languages", {}).items())
    return f"""---
language: en
library_name: transformers
pipeline_tag: text-classification
tags: [vigil, multi-label, trust-and-safety]
---
# {meta['name']} ({meta['version']})

Multi-label classifier for Vigil. It scores; people decide. Every flag goes to an analyst.

## Labels
{definitions}

Not flagged, by definition: news reporting, research and analysis, counter-speech and condemnation,
quoting in order to criticise, ordinary religious or political speech, fiction and games without endorsement.

## Model
- Base encoder: `{meta['base_model']}`; {meta['architecture']}.
- Thresholds (best F1 on validation): {meta['thresholds']}.

## Training data
{meta['training']['data'] or 'See vigil.json.'}
- {meta['training']['examples']} training / {meta['training']['validation_examples']} validation examples,
  split by template or source group and de-duplicated; seed {meta['training']['seed']};
  data sha256 `{meta['training']['data_sha256'][:16]}…`.

## Validation (held-out groups)
| label | threshold | precision | recall | F1 | support |
|---|---|---|---|---|---|
{per_label}

Flag rate per slice of the validation set (on negative slices, this is the false-positive rate):

| slice | n | flag rate |
|---|---|---|
{slices}

## Languages validated
| language | validation examples | positives | validated |
|---|---|---|---|
{languages}

## Intended use
Ranking public web content for review by trust-and-safety analysts. Every flag carries the model version,
scores, thresholds and evidence; a person decides. Not for automated removal, and not for judging people.

## Limits
- English only: the encoder splits other scripts into fragments. Scores on other languages are unvalidated.
- Trained on templates written for Vigil plus public hard negatives; no real terrorist material.
  Operators should retrain on their own reviewed items (`vigil.reviews`).
- Validation templates resemble training templates; expect lower precision on real crawls.
"""
