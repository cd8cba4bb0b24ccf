"""Labelled examples for training and evaluation: the user's files, and the public datasets in the shared
data directory by name.

`load("stormfront:train")`, `load("hatecheck")`, `load("mhc:ar")` (Multilingual HateCheck, by language),
`load("annotated:test")` (real tweets labelled under docs/annotation.md, split by account),
`load("regional")` (examples written natively in the region's languages, naming real groups),
`load("checks")` (Vigil's contrastive suite), `load("armpro:test")` (Arabic news paragraphs labelled
propagandistic or not: persuasion techniques, a different sense of the word than Vigil's label), or a JSON
lines / CSV file with `text` and `labels`
(and optionally `lang`, `slice`, `source`/`group`).
"""
from __future__ import annotations

import csv
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from classifiers.training.checks import REGIONAL, check_examples
from classifiers.training.examples import Example

DEFAULT_SHARED_DATA = Path("../shared/data")
MHC_LANGUAGES = {"ar": "arabic", "zh": "mandarin", "hi": "hindi", "nl": "dutch", "fr": "french", "de": "german",
                 "it": "italian", "pl": "polish", "pt": "portuguese", "es": "spanish"}
NAMED = ("stormfront:train", "stormfront:test", "stormfront:all", "hatecheck", "checks",
         *(f"mhc:{code}" for code in MHC_LANGUAGES), "annotated:train", "annotated:test", "annotated:all", "regional",
         "armpro:dev", "armpro:test")
ANNOTATIONS = Path(__file__).with_name("annotations") / "tweets.jsonl"
TWEET_SETS = {"fifth-tribe": "fifth-tribe-isis-twitter", "radicalization-tt": "radicalization-tt"}
TEST_ACCOUNTS = 5  # one account in five (by the hash of its pseudonym) is held out for testing


def read_examples(path: Path) -> list[Example]:
    """JSON lines or CSV with `text` and `labels` (a list, or labels separated by commas; empty = none)."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file (or give a named dataset: {', '.join(NAMED)})")
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}: line {n} is not JSON: {exc}") from None
    examples = []
    for n, row in enumerate(rows, start=1):
        if not str(row.get("text", "")).strip():
            raise ValueError(f"{path}: row {n} has no `text`")
        labels = row.get("labels") or []
        if isinstance(labels, str):
            labels = [part.strip() for part in labels.split(",") if part.strip()]
        # Without a source, each row is its own group: the split holds out rows.
        group = str(row.get("source") or row.get("group") or f"{path.name}:{n}")
        examples.append(Example(row["text"], frozenset(labels), group, row.get("slice") or "", row.get("lang") or "en"))
    return examples


def stormfront(shared_data: Path, split: str) -> list[Example]:
    """de Gibert et al. (2018): forum sentences labelled hate / noHate; `train` and `test` are the authors'
    balanced sampled split, `all` every hate/noHate sentence. Grouped by post, so a post never straddles."""
    with (shared_data / "stormfront-de-gibert-2018" / "stormfront_sentences.csv").open(encoding="utf-8") as handle:
        rows = [row for row in csv.DictReader(handle) if row["label"] in ("hate", "noHate")]
    if split != "all":
        rows = [row for row in rows if row["sampled_split"] == split]
    return [Example(row["text"], frozenset({"hate"}) if row["label"] == "hate" else frozenset(),
                    f"stormfront-{row['file_id'].split('_')[0]}", "stormfront_hate" if row["label"] == "hate"
                    else "stormfront_nohate") for row in rows]


def _hate(row: dict) -> frozenset[str]:
    return frozenset({"hate"}) if row["label_gold"] == "hateful" else frozenset()


def hatecheck_rows(shared_data: Path) -> list[dict[str, str]]:
    """HateCheck's cases as its CSV has them (test_case, label_gold, functionality, templ_id, ...)."""
    with (shared_data / "hatecheck" / "test_suite_cases.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def hatecheck(shared_data: Path) -> list[Example]:
    """HateCheck (Röttger et al., 2021): 29 functional tests; the slice is the functionality
    (counter_quote_nh, counter_ref_nh, negate_neg_nh, ident_neutral_nh, ...), grouped by template."""
    return [Example(row["test_case"].strip(), _hate(row), f"hatecheck-{row['templ_id']}", row["functionality"])
            for row in hatecheck_rows(shared_data)]


def multilingual_hatecheck(shared_data: Path, code: str) -> list[Example]:
    path = shared_data / "multilingual-hatecheck" / f"hatecheck_cases_final_{MHC_LANGUAGES[code]}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        return [Example(row["test_case"].strip(), _hate(row), f"mhc-{code}-{row['templ_id']}", row["functionality"],
                        code) for row in csv.DictReader(handle)]


def armpro(shared_data: Path, split: str) -> list[Example]:
    """ArMPro (Hasanain et al., LREC-COLING 2024), binary: news paragraphs with or without any persuasion
    technique, under the label `propagandistic`. Only its dev and test splits are in the shared data (the
    train split is not), so a model is trained on dev and tested on test. Grouped by article."""
    path = shared_data / "armpro-arabic-propaganda" / f"ArMPro_binary_{split}_V2.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Example(row["paragraph"], frozenset({"propagandistic"}) if row["label"] == "true" else frozenset(),
                    f"armpro-{row['page_id']}", "", "ar") for row in rows]


def is_test_account(group: str) -> bool:
    """Whether an account (the group `<dataset>:<pseudonym>`) is held out for testing."""
    return int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) % TEST_ACCOUNTS == 0


@lru_cache(maxsize=2)
def _annotated(shared_data: Path) -> tuple[Example, ...]:
    """Every annotation joined with its text, read once a process (the join hashes 42k tweets)."""
    labels = {row["sha256"]: row for row in map(json.loads, ANNOTATIONS.read_text(encoding="utf-8").splitlines())}
    examples = []
    for dataset, folder in TWEET_SETS.items():
        with (shared_data / folder / "tweets.csv").open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                label = labels.pop(hashlib.sha256(row["text"].encode("utf-8")).hexdigest(), None)
                if label is not None and label["dataset"] == dataset:
                    examples.append(Example(row["text"], frozenset(label["labels"]), f"{dataset}:{row['account']}",
                                            label["kind"], label["lang"] if label["lang"] != "und" else "en"))
    return tuple(examples)


def annotated(shared_data: Path, split: str) -> list[Example]:
    """Real tweets labelled per item under docs/annotation.md; the labels are kept here keyed by the text's
    SHA-256, the texts in the shared data. Grouped and split by account: `test` is one account in five, so
    no account is on both sides. The slice is the annotated kind (official_media, news, religious, ...)."""
    return [e for e in _annotated(Path(shared_data)) if split == "all" or is_test_account(e.group) == (split == "test")]


def regional() -> list[Example]:
    """Recruitment, propaganda and hard negatives (news, counter-speech, research, religious, political,
    fiction) written natively per language for training; the contrastive checks have their own cases."""
    examples = []
    for path in sorted(REGIONAL.glob("*.train.jsonl")):
        for n, row in enumerate(map(json.loads, path.read_text(encoding="utf-8").splitlines())):
            examples.append(Example(row["text"], frozenset(row["labels"]), f"regional-{row['lang']}-{n}",
                                    f"{row['lang']}/{row['slice']}", row["lang"]))
    return examples


def _part(spec: str, choices: tuple[str, ...], what: str) -> str:
    """The part of a named set after its colon (a split or a language), refused unless it is one of choices."""
    part = spec.split(":", 1)[1]
    if part not in choices:
        raise ValueError(f"{spec}: {what} are {', '.join(choices[:-1])} and {choices[-1]}")
    return part


def load(spec: str, shared_data: Path = DEFAULT_SHARED_DATA) -> list[Example]:
    """A named dataset or a file."""
    if spec.startswith("stormfront:"):
        return stormfront(shared_data, _part(spec, ("train", "test", "all"), "the Stormfront splits"))
    if spec == "hatecheck":
        return hatecheck(shared_data)
    if spec.startswith("mhc:"):
        code = _part(spec, tuple(MHC_LANGUAGES), "Multilingual HateCheck languages")
        return multilingual_hatecheck(shared_data, code)
    if spec == "checks":
        return check_examples()
    if spec == "regional":
        return regional()
    if spec.startswith("armpro:"):
        return armpro(shared_data, _part(spec, ("dev", "test"), "the ArMPro splits in the shared data"))
    if spec.startswith("annotated:"):
        return annotated(shared_data, _part(spec, ("train", "test", "all"), "the annotated tweets' splits"))
    return read_examples(Path(spec))


def load_all(specs: list[str], shared_data: Path = DEFAULT_SHARED_DATA) -> list[Example]:
    """Every example of several named datasets or files, in order."""
    return [example for spec in specs for example in load(spec, shared_data)]
