"""The model card (README.md) of a trained model directory, from its vigil.json."""
from __future__ import annotations

from classifiers.labels import DEFINITIONS


def model_card(meta: dict) -> str:
    per_label = "\n".join(
        f"| {label} | {m['threshold']} | {m['precision']} | {m['recall']} | {m['f1']} | {m['support']} |"
        for label, m in meta["validation"]["per_label"].items())
    slices = "\n".join(f"| {name} | {s['n']} | {s['flag_rate']} |"
                       for name, s in meta["validation"]["flag_rate_by_slice"].items())
    definitions = "\n".join(f"- `{label}`: {DEFINITIONS.get(label, '(custom label)')}" for label in meta["labels"])
    languages = "\n".join(
        f"| {lang} | {v['validation_examples']} | {v['positives']} | "
        f"{'yes' if v['validated'] else 'no (too few cases)'} |"
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
