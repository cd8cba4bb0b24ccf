"""A text already scored by the same model, thresholds and language is not scored again."""
from collections import Counter

import pytest

from classifiers.cache import PredictionCache
from classifiers.model import TextClassifier
from classifiers.stage import ClassifyStage
from classifiers.thresholds import ThresholdSet
from streams.schemas import ClassifiedDocument
from tests.factories import raw_document
from tests.unit.tiny_model import build_tiny_model


@pytest.fixture
def classifier(tmp_path):
    classifier = TextClassifier.from_pretrained(build_tiny_model(tmp_path / "model"))
    scored: list[str] = []
    predict = classifier.predict

    def counting(texts, **options):
        scored.extend(texts)
        return predict(texts, **options)
    classifier.predict = counting
    classifier.scored = scored
    return classifier


def test_repeated_texts_are_scored_once_and_answer_the_same(classifier):
    cache = PredictionCache(100)
    first, hits = cache.predict(classifier, ["join the fighters", "police report", "join the fighters"], ["en"] * 3)
    assert hits == 1 and classifier.scored == ["join the fighters", "police report"]
    again, hits = cache.predict(classifier, ["police report", "a new text"], ["en", "en"])
    assert hits == 1 and classifier.scored[-1] == "a new text"
    assert again[0].scores == first[1].scores and first[0] is first[2]


def test_another_language_or_thresholds_version_is_scored_anew(classifier, tmp_path):
    cache = PredictionCache(100)
    cache.predict(classifier, ["join the fighters"], ["en"])
    assert cache.predict(classifier, ["join the fighters"], ["ru"])[1] == 0  # per-language thresholds may differ
    ThresholdSet("thr-2", classifier.version, {"recruitment": 0.4, "propaganda": 0.4}).write(tmp_path / "t.json")
    classifier.watch_thresholds(tmp_path / "t.json")
    assert cache.predict(classifier, ["join the fighters"], ["en"])[1] == 0
    assert len(classifier.scored) == 3


def test_the_cache_is_bounded_and_can_be_off(classifier):
    cache = PredictionCache(2)
    cache.predict(classifier, ["a", "b", "c"], ["en"] * 3)
    assert cache.predict(classifier, ["a"], ["en"])[1] == 0  # the oldest went first
    off = PredictionCache(0)
    assert off.predict(classifier, ["x", "x"], ["en", "en"])[1] == 0 and classifier.scored[-2:] == ["x", "x"]


def test_the_classify_stage_counts_hits_and_publishes_every_document(classifier):
    stage = ClassifyStage(classifier, "raw", "classified")
    docs = [raw_document(f"https://e.org/{n}", "join the fighters at the front") for n in range(3)]
    stats = Counter()
    results = stage.process(docs, stats)
    assert stats["cache_hits"] == 2 and len(results) == 3
    urls = [ClassifiedDocument.from_bytes(r.outputs[0].value).document.url for r in results]
    assert urls == [doc.url for doc in docs]
