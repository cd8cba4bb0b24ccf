"""The examples and checks written natively in the region's languages: complete per language, labelled as the
slices and functionalities say, with no check text also a training text."""
from collections import Counter

from classifiers.training.checks import CHECKS, regional_checks
from classifiers.training.datasets import load

LANGUAGES = {"ru", "ar", "zh", "fa", "uz", "kk", "ps", "ur", "ky", "tg"}
NEGATIVE_SLICES = {"news", "counter", "quote", "question", "negation", "research", "religious", "political", "fiction"}


def test_every_language_has_positives_and_each_hard_negative():
    examples = load("regional")
    assert {e.lang for e in examples} == LANGUAGES
    for lang in LANGUAGES:
        mine = [e for e in examples if e.lang == lang]
        counts = Counter(e.slice.split("/")[1] for e in mine)
        assert counts["recruitment"] >= 10 and counts["propaganda"] >= 10
        assert all(counts[name] >= 4 for name in NEGATIVE_SLICES)
        for e in mine:
            kind = e.slice.split("/")[1]
            assert (kind in NEGATIVE_SLICES) == (not e.labels), e.text
            assert kind != "recruitment" or "recruitment" in e.labels


def test_every_language_checks_every_functionality_with_its_labels():
    checks = regional_checks()
    assert {e.lang for e in checks} == LANGUAGES
    for e in checks:
        lang, functionality = e.slice.split("/")
        assert e.labels == frozenset(CHECKS[functionality][0])
    assert {e.slice for e in checks} == {f"{lang}/{name}" for lang in LANGUAGES for name in CHECKS}


def test_checks_are_written_apart_from_training():
    training = {" ".join(e.text.lower().split()) for e in load("regional")}
    assert not training & {" ".join(e.text.lower().split()) for e in regional_checks()}


def test_no_training_text_is_a_near_copy_of_a_check():
    """Written apart means more than different bytes: a reworded check in training would inflate its figures."""
    from difflib import SequenceMatcher

    checks = regional_checks()
    for e in load("regional"):
        for check in (c for c in checks if c.lang == e.lang):
            matcher = SequenceMatcher(None, e.text, check.text)
            assert matcher.quick_ratio() < 0.65 or matcher.ratio() < 0.65, (e.text, check.text)
