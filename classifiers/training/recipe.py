"""What a model is trained on: the bundled default model's recipe, and a user's datasets with a frozen
evaluation set kept out and counter-speech negatives added. Each recipe says what it holds, for the
model card."""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

from classifiers.labels import DEFAULT_LABELS
from classifiers.training.augment import counter_speech
from classifiers.training.datasets import (
    MHC_LANGUAGES,
    hatecheck_rows,
    load_all,
    multilingual_hatecheck,
    read_examples,
    stormfront,
)
from classifiers.training.examples import Example
from classifiers.training.seed import seed_examples

SEED_DATA = (
    "Vigil's contrastive seed templates (classifiers/training/seed.py: recruitment, propaganda, news, "
    "counter-speech, research, ordinary speech); the seed positives quoted or referred to inside condemnations, "
    "and negated hostility (classifiers/training/augment.py); hard negatives from shared data: HateCheck "
    "non-hateful cases and 1,500 Stormfront noHate sentences.")
# Encoder layers each named recipe trains from the top (the help of `vigil train` names them too).
DEFAULT_TRAIN_LAYERS = 6
ENGLISH_TRAIN_LAYERS = 3
NOT_TRAINED_ON = ("Vigil's contrastive checks (classifiers/training/checks.py)", "HateCheck's hateful cases")
ENGLISH_DATA_DESCRIPTION = (f"{SEED_DATA} Not trained on: any real terrorist material, {', '.join(NOT_TRAINED_ON)}, "
                            "any language but English.")
DEFAULT_DATA_DESCRIPTION = (
    f"{SEED_DATA} The annotated tweets of the training accounts (docs/annotation.md), and the examples written "
    "in ru, ar, zh, fa, uz, kk, ps, ur, ky and tg (classifiers/training/regional/). 200 non-hateful cases of "
    "Multilingual HateCheck in each of its languages but Arabic (counter-speech, negation, neutral mentions). Not "
    f"trained on: the annotated tweets of the test accounts, {', '.join(NOT_TRAINED_ON)}, Multilingual HateCheck's "
    "Arabic cases (kept to measure false positives in Arabic).")


@dataclass
class Recipe:
    examples: list[Example]
    description: str  # for the model card
    notes: list[str] = dataclasses.field(default_factory=list)  # what was left out or added, for the operator
    train_layers: int = 1  # encoder layers trained from the top, unless the operator says otherwise
    encoder: str | None = None  # what it trains on (classifiers.default.resolve_encoder); None: all-MiniLM-L6-v2
    held_out: list[str] = dataclasses.field(default_factory=list)  # named sets never trained on, for the card


def shared_negatives(shared_data: Path, seed: int, stormfront_sample: int = 1500) -> list[Example]:
    """Hard negatives from the public datasets: HateCheck's non-hateful cases (counter-speech, negation,
    identity mentions) and a sample of Stormfront's noHate sentences. Neither set has our labels' positives.
    As the bundled model was trained: HateCheck's cases unstripped (texts are batched by length, so
    whitespace changes the batches and the weights), grouped coarser than the datasets group them
    (HateCheck by functionality, Stormfront by the first six digits of the post id)."""
    examples = [Example(row["test_case"], frozenset(), f"hatecheck-{row['functionality']}", row["functionality"])
                for row in hatecheck_rows(shared_data) if row["label_gold"] == "non-hateful"]
    no_hate = [e for e in stormfront(shared_data, "all") if not e.labels and len(e.text) > 30]
    for e in random.Random(seed).sample(no_hate, min(stormfront_sample, len(no_hate))):
        examples.append(dataclasses.replace(e, group=e.group[:len("stormfront-") + 6]))
    return examples


def multilingual_negatives(shared_data: Path, seed: int, per_language: int = 200,
                           held_out: tuple[str, ...] = ("ar",)) -> list[Example]:
    """Multilingual HateCheck's non-hateful cases (counter-speech, negation, neutral and positive mentions of
    groups) in its languages but those held out for evaluation; grouped by language and functionality, as
    HateCheck is."""
    examples = []
    for code in sorted(set(MHC_LANGUAGES) - set(held_out)):
        cases = [e for e in multilingual_hatecheck(shared_data, code) if not e.labels]
        for e in random.Random(f"{seed}-{code}").sample(cases, min(per_language, len(cases))):
            examples.append(dataclasses.replace(e, group=f"mhc-{code}-{e.slice}"))
    return examples


def english_recipe(shared_data: Path, seed: int) -> Recipe:
    """The seed templates and hard negatives on all-MiniLM-L6-v2 (English only): the default model until
    2026-12, kept for comparison and for English-only deployments."""
    seeds = [Example(e["text"], frozenset(e["labels"]), e["group"], e["slice"]) for e in seed_examples(seed)]
    examples = seeds + counter_speech(seeds, list(DEFAULT_LABELS), seed) + shared_negatives(shared_data, seed)
    return Recipe(examples, ENGLISH_DATA_DESCRIPTION, train_layers=ENGLISH_TRAIN_LAYERS)


def default_recipe(shared_data: Path, seed: int) -> Recipe:
    """The bundled model's recipe: the English recipe on the multilingual encoder, with real and regional data:
    the annotated tweets of the training accounts (annotated:test stays out), the examples written natively
    in the region's languages (their checks stay out) and Multilingual HateCheck's non-hateful cases (its Arabic
    ones stay out)."""
    examples = (english_recipe(shared_data, seed).examples + load_all(["annotated:train", "regional"], shared_data)
                + multilingual_negatives(shared_data, seed))
    return Recipe(examples, DEFAULT_DATA_DESCRIPTION, train_layers=DEFAULT_TRAIN_LAYERS,
                  encoder="multilingual-e5-small", held_out=["annotated:test", "checks", "mhc:ar"])


def user_recipe(specs: list[str], shared_data: Path, *, exclude: list[str] | None = None,
                augment_counter_speech: bool = False, labels: list[str] | None = None, seed: int = 13) -> Recipe:
    """Named datasets and files; the texts of `exclude` (frozen evaluation sets) are never trained on."""
    examples = load_all(specs, shared_data)
    notes = []
    if exclude:
        frozen = {e.text for path in exclude for e in read_examples(Path(path))}
        examples = [e for e in examples if e.text not in frozen]
        notes.append(f"{len(frozen)} frozen texts excluded")
    description = "; ".join(specs)
    if augment_counter_speech:
        extra = counter_speech(examples, labels or sorted({label for e in examples for label in e.labels}), seed)
        notes.append(f"{len(extra)} counter-speech and negation negatives added")
        examples += extra
        description += "; plus counter-speech and negation negatives (classifiers/training/augment.py)"
    return Recipe(examples, description, notes)
