"""Inference mechanics on a tiny random model: labels, thresholds, windows, evidence, the stage."""
import json
from collections import Counter

import pytest

from classifiers.model import TextClassifier, sentences
from classifiers.stage import ClassifyStage
from streams.config import ClassifierSettings
from streams.schemas import ClassifiedDocument
from tests.factories import raw_document
from tests.unit.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), thresholds={"recruitment": 0.3, "propaganda": 0.4})


def test_loads_any_model_directory_with_its_labels_and_thresholds(model_dir):
    classifier = TextClassifier.from_pretrained(model_dir)
    assert classifier.labels == ["recruitment", "propaganda"]
    assert classifier.thresholds == {"recruitment": 0.3, "propaganda": 0.4} and classifier.version == "tiny-1"
    overridden = TextClassifier.from_pretrained(model_dir, ClassifierSettings(thresholds={"propaganda": 0.9}))
    assert overridden.thresholds == {"recruitment": 0.3, "propaganda": 0.9}
    with pytest.raises(ValueError, match="labels the model does not have"):
        TextClassifier.from_pretrained(model_dir, ClassifierSettings(thresholds={"spam": 0.5}))


def test_model_without_vigil_metadata_gets_a_version_and_default_thresholds(tmp_path):
    classifier = TextClassifier.from_pretrained(build_tiny_model(tmp_path))
    assert classifier.thresholds == {"recruitment": 0.5, "propaganda": 0.5} and len(classifier.version) == 12


def test_scores_are_probabilities_and_labels_follow_thresholds(model_dir):
    classifier = TextClassifier.from_pretrained(model_dir)
    texts = ["join the fighters", "police said the attack injured three people. " * 3, ""]
    for prediction in classifier.predict(texts):
        assert set(prediction.scores) == {"recruitment", "propaganda"}
        assert all(0.0 <= s <= 1.0 for s in prediction.scores.values())
        assert prediction.labels == [label for label, s in prediction.scores.items()
                                     if s >= classifier.thresholds[label]]
        assert prediction.flagged == bool(prediction.labels)


def test_batching_and_sorting_do_not_change_scores(model_dir):
    texts = ["join the fighters and travel", "the study", "we reject violence and stand with the victims today"]
    one_by_one = TextClassifier.from_pretrained(model_dir, ClassifierSettings(batch_size=1)).score_texts(texts)
    batched = TextClassifier.from_pretrained(model_dir, ClassifierSettings(batch_size=8)).score_texts(texts)
    assert batched == pytest.approx(one_by_one, abs=1e-5)


def test_long_texts_are_scored_over_windows_that_cover_them(model_dir):
    classifier = TextClassifier.from_pretrained(model_dir, ClassifierSettings(max_length=32, max_windows=50))
    text = " ".join(f"Sentence number {i} talks about the study of videos." for i in range(40))
    windows = classifier.windows(text)
    assert len(windows) > 3
    assert windows[0].start == 0 and windows[-1].end == len(text)
    assert all(text[w.start:w.end] == w.text for w in windows)
    capped = TextClassifier.from_pretrained(model_dir, ClassifierSettings(max_length=32, max_windows=2))
    assert len(capped.windows(text)) == 2


def test_evidence_points_into_the_text(model_dir):
    classifier = TextClassifier.from_pretrained(model_dir, ClassifierSettings(thresholds={"recruitment": 0.01,
                                                                                          "propaganda": 0.01}))
    text = "Join the fighters. Send money to the brigade! Police said the attack injured three people."
    prediction = classifier.predict([text])[0]
    assert prediction.flagged and prediction.evidence
    for evidence in prediction.evidence:
        assert text[evidence["start"]:evidence["end"]].strip() == evidence["text"]
        assert -1.0 <= evidence["contribution"] <= 1.0  # occlusion: the window's score without the sentence
    window_score = prediction.scores[prediction.evidence[0]["label"]]
    occluded = text.replace(prediction.evidence[0]["text"], "", 1)
    column = classifier.labels.index(prediction.evidence[0]["label"])
    expected = window_score - float(classifier.score_texts([occluded])[0][column])
    assert prediction.evidence[0]["contribution"] == pytest.approx(expected, abs=0.02)


def test_sentence_offsets():
    text = "One. Two!  Three?\nFour"
    expected = [(t, t) for t in ["One.", "Two!", "Three?", "Four"]]
    assert [(s.text, text[s.start:s.end]) for s in sentences(text)] == expected


def test_classify_stage_emits_valid_classified_documents(model_dir):
    classifier = TextClassifier.from_pretrained(model_dir)
    stage = ClassifyStage(classifier, "raw", "classified")
    docs = [raw_document(f"https://e.org/{i}", f"join the fighters number {i}") for i in range(3)]
    stats = Counter()
    results = stage.process(docs, stats)
    for doc, result in zip(docs, results):
        (output,) = result.outputs
        assert output.topic == "classified" and output.key == doc.id.encode()
        classified = ClassifiedDocument.from_bytes(output.value)
        assert classified.document == doc and classified.model_version == "tiny-1"
        assert classified.thresholds == classifier.thresholds
    assert stats["flagged"] == sum(ClassifiedDocument.from_bytes(r.outputs[0].value).flagged for r in results)


def test_each_document_says_whether_the_model_was_validated_on_its_language(tmp_path):
    model_dir = build_tiny_model(tmp_path / "m", thresholds={"recruitment": 0.5, "propaganda": 0.5})
    meta_file = model_dir / "vigil.json"
    meta = json.loads(meta_file.read_text())
    meta["validation"] = {"languages": {"en": {"validated": True}, "ru": {"validated": False, "positives": 3}}}
    meta_file.write_text(json.dumps(meta))
    stage = ClassifyStage(TextClassifier.from_pretrained(model_dir), "raw", "classified")
    docs = [raw_document(f"https://e.org/{lang}", f"text {lang}", lang=lang) for lang in ("en", "ru", "uz")]
    classified = [ClassifiedDocument.from_bytes(r.outputs[0].value) for r in stage.process(docs, Counter())]
    assert [c.language_validated for c in classified] == [True, False, False]

    unknown = ClassifyStage(TextClassifier.from_pretrained(build_tiny_model(tmp_path / "n")), "raw", "classified")
    [result] = unknown.process(docs[:1], Counter())
    assert ClassifiedDocument.from_bytes(result.outputs[0].value).language_validated is None  # the model does not say
