"""The first pass keeps the teacher's flags it was fitted to keep, and the classify stage sends only its
candidates on to the transformer."""
from __future__ import annotations

from collections import Counter

import numpy as np

from classifiers.first_pass import FirstPass, chunk_ngrams
from classifiers.model import Prediction, TextClassifier
from classifiers.stage import ClassifyStage
from classifiers.training.examples import Example
from classifiers.training.first_pass import fit_first_pass, held_out
from streams.config import ClassifierSettings
from streams.schemas import ClassifiedDocument
from tests.factories import raw_document
from tests.unit.tiny_model import build_tiny_model

BENIGN = ["the council met about the {} budget", "рынок открылся в {} часов", "قال المتحدث إن الطقس {} اليوم",
          "our team won the {} match at home", "a recipe for {} soup with beans"]
FLAGGED = ["join the brigade now, brothers, travel to the {} camp", "вступайте в ряды бригады, {} братья"]


class KeywordTeacher:
    """A stand-in transformer that flags texts naming one of its words (by default the brigade, in English or
    Russian)."""
    labels = ["recruitment"]

    def __init__(self, version="teacher-1", words=("brigade", "бригад")):
        self.version, self.words = version, words

    def threshold(self, label, lang=None):
        return 0.5

    def predict(self, texts, explain=False, langs=None):
        hits = [any(word in t for word in self.words) for t in texts]
        return [Prediction({"recruitment": 0.9 if hit else 0.01}, [], hit) for hit in hits]


def corpus() -> list[Example]:
    texts = [frame.format(n) for n in range(400) for frame in BENIGN] + \
            [frame.format(n) for n in range(150) for frame in FLAGGED]
    return [Example(text, frozenset(), group=text) for text in texts]


def test_the_first_pass_keeps_the_teachers_flags_and_clears_most_benign_text(tmp_path):
    first_pass = fit_first_pass([KeywordTeacher()], corpus(), recall=0.99, buckets=2 ** 14, epochs=4,
                                progress=lambda _: None)
    report = first_pass.report
    assert report["recall_kept"] >= 0.99 and report["teacher_flags_held_out"] > 30
    assert report["sent_on_share"] < 0.5  # benign text is most of the mix, and most of it stops here
    reloaded = FirstPass.load(first_pass.save(tmp_path).parent)
    texts = [e.text for e in corpus() if held_out(e.text)]
    assert np.allclose(reloaded.scores(texts), first_pass.scores(texts), atol=1e-3)


def test_it_keeps_the_flags_of_every_variant_it_was_fitted_to():
    # An int8 variant flags texts the fp32 model does not (here the Russian ones): the first pass keeps both.
    variants = [KeywordTeacher("teacher-1", ("brigade",)), KeywordTeacher("teacher-1+torch-int8", ("бригад",))]
    first_pass = fit_first_pass(variants, corpus(), recall=0.99, buckets=2 ** 14, epochs=4, progress=lambda _: None)
    report = first_pass.report
    assert first_pass.teacher_version == "teacher-1"  # the model's version, which the variants share
    assert set(report["variants"]) == {"teacher-1", "teacher-1+torch-int8"}
    assert all(v["recall_kept"] >= 0.99 and v["flags_held_out"] > 10 for v in report["variants"].values())
    assert report["sent_on_share"] < 0.5


def test_a_long_page_is_as_suspect_as_its_most_suspect_chunk():
    page = "ordinary words about the weather. " * 400
    chunks = chunk_ngrams(page + FLAGGED[0].format(1), 2 ** 14)
    assert 1 < len(chunks) <= 8 and all(len(ids) for ids in chunks)
    weights = np.zeros(2 ** 14, dtype=np.float32)
    weights[chunk_ngrams(FLAGGED[0].format(1), 2 ** 14)[0]] = 5.0
    first_pass = FirstPass(weights, -1.0, 0.0, "t", {})
    short_page = "ordinary words about the weather. " * 20
    assert first_pass.scores([short_page + FLAGGED[0].format(1)])[0] > first_pass.scores([short_page])[0]


def test_the_stage_sends_only_candidates_to_the_transformer(tmp_path):
    model_dir = build_tiny_model(tmp_path / "m", thresholds={"recruitment": 0.5, "propaganda": 0.5})
    classifier = TextClassifier.from_pretrained(model_dir)
    weights = np.zeros(2 ** 14, dtype=np.float32)
    weights[chunk_ngrams("brigade", 2 ** 14)[0]] = 50.0
    FirstPass(weights, 0.0, 5.0, classifier.version, {"fitted_sha256": "ab" * 32}).save(model_dir)
    classifier = TextClassifier.from_pretrained(model_dir, ClassifierSettings(first_pass=True))
    stage = ClassifyStage(classifier, "raw", "classified")
    docs = [raw_document("https://e.org/1", "join the brigade"), raw_document("https://e.org/2", "bean soup")]
    stats = Counter()
    suspect, cleared = [ClassifiedDocument.from_bytes(r.outputs[0].value) for r in stage.process(docs, stats)]
    assert suspect.first_pass.sent_on and set(suspect.scores) == {"recruitment", "propaganda"}
    assert not cleared.first_pass.sent_on and cleared.scores == {} and not cleared.flagged
    assert stats["first_pass_cleared"] == 1


def test_switching_it_on_without_a_fitted_file_names_the_command(tmp_path):
    import pytest

    model_dir = build_tiny_model(tmp_path / "m")
    with pytest.raises(ValueError, match="vigil first-pass --model"):
        TextClassifier.from_pretrained(model_dir, ClassifierSettings(first_pass=True))
