"""The annotated tweets: labels keyed by text hash (no text in the repository), every one joined to its text in
the shared data, kinds and labels as docs/annotation.md defines them, and a split that keeps accounts apart."""
import json
import re
from pathlib import Path

import pytest

from classifiers.labels import DEFAULT_LABELS
from classifiers.training.datasets import ANNOTATIONS, load

GUIDELINES = Path(__file__).resolve().parents[2] / "docs" / "annotation.md"
FIELDS = {"sha256", "dataset", "labels", "kind", "lang", "unsure", "annotator"}


@pytest.fixture(scope="module")
def rows():
    return [json.loads(line) for line in ANNOTATIONS.read_text(encoding="utf-8").splitlines()]


def test_the_file_holds_decisions_keyed_by_hash_and_no_text(rows):
    assert len(rows) >= 3000
    assert all(set(row) == FIELDS and re.fullmatch(r"[0-9a-f]{64}", row["sha256"]) for row in rows)
    assert len({row["sha256"] for row in rows}) == len(rows)


def test_labels_and_kinds_are_the_guidelines(rows):
    kinds = set(re.findall(r"^\| `(\w+)` \|", GUIDELINES.read_text(encoding="utf-8"), re.MULTILINE))
    assert {row["kind"] for row in rows} <= kinds
    assert all(set(row["labels"]) <= set(DEFAULT_LABELS) for row in rows)


def test_every_annotation_finds_its_text_and_accounts_never_straddle_the_split(rows):
    train, test = load("annotated:train"), load("annotated:test")
    assert len(train) + len(test) == len(rows)
    assert not {e.group for e in train} & {e.group for e in test}
    assert any(e.labels for e in test) and any(not e.labels for e in test)
