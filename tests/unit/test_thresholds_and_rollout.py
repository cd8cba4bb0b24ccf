"""Calibrated thresholds from evidence, reloaded without a restart; shadow models; switch and rollback."""
import json
import os
import time
from collections import Counter

import numpy as np
import pytest

from classifiers.model import VIGIL_FILE, TextClassifier
from classifiers.selection import SelectionFile
from classifiers.stage import ClassifyStage
from classifiers.thresholds import ThresholdSet
from classifiers.training.calibration import choose, fit_temperature, threshold_for_precision
from classifiers.training.evaluate import Scored
from classifiers.training.examples import Example
from streams.config import ClassifierSettings, VigilSettings
from streams.schemas import ClassifiedDocument
from streams.transports import open_transport
from tests.factories import raw_document
from tests.unit.tiny_model import build_tiny_model
from vigil.cli import main
from vigil.pipeline import classify_runner


def test_threshold_for_a_target_precision():
    scores = np.array([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    truth = np.array([True, True, True, False, True, False, False])
    assert threshold_for_precision(scores, truth, 1.0) == 0.8  # the most recall at precision 1
    assert threshold_for_precision(scores, truth, 0.8) == 0.6  # 4 of 5
    assert threshold_for_precision(scores, np.zeros(7, bool), 0.5) is None


def test_temperature_scaling_fixes_overconfidence():
    rng = np.random.default_rng(0)
    truth = rng.random(4000) < 0.5
    x = np.where(truth, 1.0, -1.0) + rng.normal(0, 1.0, 4000)
    calibrated_logits = 2 * x  # the log-likelihood ratio of N(1, 1) against N(-1, 1)
    overconfident = 1 / (1 + np.exp(-3 * calibrated_logits))  # made 3x too confident
    assert fit_temperature(overconfident, truth) == pytest.approx(3.0, rel=0.1)


def scored(n=200):
    rng = np.random.default_rng(1)
    examples, probabilities = [], []
    for i in range(n):
        positive = i % 4 == 0
        examples.append(Example(f"t{i}", frozenset({"recruitment"}) if positive else frozenset(), f"g{i}", "",
                                "en" if i % 2 else "ru"))
        probabilities.append([min(0.99, max(0.01, (0.7 if positive else 0.3) + rng.normal(0, 0.15)))])
    return Scored(examples, ["recruitment"], {"recruitment": 0.5}, np.array(probabilities))


def test_choose_for_precision_or_budget():
    chosen = choose(scored(), "m-1", precision=0.9)
    assert chosen.model_version == "m-1" and chosen.version.startswith("thresholds-")
    assert chosen.details["expected_on_data"]["recruitment"]["precision"] >= 0.9
    per_language = choose(scored(400), "m-1", precision=0.9, per_language=True, min_support=20)
    assert set(per_language.by_language) <= {"en", "ru"}
    budget = choose(scored(), "m-1", flags_per_day=100, documents_per_day=1000)  # 10% of documents
    assert budget.details["expected_on_data"]["recruitment"]["flags_per_10k"] == pytest.approx(1000, abs=100)
    with pytest.raises(ValueError, match="either"):
        choose(scored(), "m-1")


@pytest.fixture
def tiny(tmp_path):
    return build_tiny_model(tmp_path / "model", thresholds={"recruitment": 0.5, "propaganda": 0.5})


def test_thresholds_file_is_applied_and_reloaded_without_restart(tmp_path, tiny):
    classifier = TextClassifier.from_pretrained(tiny)
    path = tmp_path / "thresholds.json"
    ThresholdSet("thr-1", "tiny-1", {"recruitment": 0.01, "propaganda": 0.99},
                 temperature={"recruitment": 2.0}, by_language={"ru": {"recruitment": 0.99}}).write(path)
    classifier.watch_thresholds(path)
    stage = ClassifyStage(classifier, "raw", "classified")
    docs = [raw_document("https://e.org/1", "join the fighters"),
            raw_document("https://e.org/2", "вступай", lang="ru")]
    first = [ClassifiedDocument.from_bytes(r.outputs[0].value) for r in stage.process(docs, Counter())]
    assert first[0].thresholds_version == "thr-1" and first[0].labels == ["recruitment"]
    assert first[1].labels == [] and first[1].thresholds["recruitment"] == 0.99  # the Russian threshold
    ThresholdSet("thr-2", "tiny-1", {"recruitment": 0.99, "propaganda": 0.99}).write(path)
    os.utime(path, (time.time() + 5, time.time() + 5))  # a new mtime even within the clock's resolution
    second = ClassifiedDocument.from_bytes(stage.process(docs[:1], Counter())[0].outputs[0].value)
    assert second.thresholds_version == "thr-2" and second.labels == []
    path.write_text("{broken")
    os.utime(path, (time.time() + 10, time.time() + 10))
    stats = Counter()
    third = ClassifiedDocument.from_bytes(stage.process(docs[:1], stats)[0].outputs[0].value)
    assert third.thresholds_version == "thr-2" and stats["threshold_reload_errors"] == 1  # kept what worked
    wrong = tmp_path / "other.json"
    ThresholdSet("thr-x", "another-model", {"recruitment": 0.5}).write(wrong)
    with pytest.raises(ValueError, match="fitted on model another-model"):
        TextClassifier.from_pretrained(tiny).watch_thresholds(wrong)


def test_switch_shadow_and_rollback_between_batches(tmp_path, tiny):
    candidate = build_tiny_model(tmp_path / "candidate", seed=1)
    settings = VigilSettings.model_validate({"data_dir": str(tmp_path / "data"), "classifier": {"model": "active"}})
    SelectionFile(settings.data_dir).select("ops", active=str(tiny))
    transport = open_transport(settings)
    stage = classify_runner(settings, transport).stage
    doc = raw_document("https://e.org/1", "join the fighters")

    def classify():
        return ClassifiedDocument.from_bytes(stage.process([doc], Counter())[0].outputs[0].value)

    assert classify().model_version == "tiny-1" and classify().shadow is None
    config = tmp_path / "vigil.yaml"
    config.write_text(json.dumps(settings.model_dump(mode="json")))
    assert main(["--config", str(config), "model", "shadow", str(candidate)]) == 0
    shadowed = classify()
    assert shadowed.model_version == "tiny-1" and shadowed.shadow.model_version != "tiny-1"
    assert main(["--config", str(config), "model", "use", str(candidate)]) == 0
    switched = classify()
    assert switched.model_version == shadowed.shadow.model_version and switched.shadow is None
    assert main(["--config", str(config), "model", "rollback"]) == 0
    assert classify().model_version == "tiny-1"
    assert main(["--config", str(config), "model", "status"]) == 0


def test_thresholds_command_writes_a_file_the_classifier_uses(tmp_path, tiny, capsys):
    data = tmp_path / "labelled.jsonl"
    rows = [("join the fighters and travel to the front", ["recruitment"]),
            ("send money to the brigade", ["recruitment"]),
            ("police said the attack injured three people", []), ("the study analyses propaganda videos", []),
            ("glory to the heroes of the operation", ["propaganda"])] * 6
    data.write_text("".join(json.dumps({"text": t, "labels": labels}) + "\n" for t, labels in rows))
    out = tmp_path / "thresholds.json"
    assert main(["thresholds", "--model", str(tiny), "--data", str(data), "--flags-per-day", "200",
                 "--documents-per-day", "1000", "--output", str(out)]) == 0
    chosen = ThresholdSet.read(out)
    assert chosen.model_version == "tiny-1" and set(chosen.temperature) == {"recruitment", "propaganda"}
    assert "flags per 10,000 documents" in capsys.readouterr().out
    classifier = TextClassifier.from_pretrained(tiny)
    classifier.watch_thresholds(out)
    assert classifier.thresholds_version == chosen.version
    assert main(["thresholds", "--model", str(tiny), "--data", str(data), "--flags-per-day", "5",
                 "--output", str(out)]) == 2  # a budget needs the daily volume


def test_a_model_that_does_not_load_is_never_switched_to(tmp_path, tiny, capsys):
    config = tmp_path / "vigil.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\nclassifier: {{model: active}}\n")
    assert main(["--config", str(config), "model", "use", str(tiny)]) == 0
    assert main(["--config", str(config), "model", "use", str(tmp_path / "nowhere")]) == 1
    assert "does not load as a classifier" in capsys.readouterr().err
    assert SelectionFile(tmp_path / "data").read().active == str(tiny)


def test_a_models_own_per_language_thresholds_apply_unless_the_settings_set_the_label(tiny):
    meta_file = tiny / VIGIL_FILE
    meta = json.loads(meta_file.read_text())
    meta_file.write_text(json.dumps({**meta, "thresholds_by_language": {"ru": {"recruitment": 0.8}}}))
    classifier = TextClassifier.from_pretrained(tiny)
    assert classifier.threshold("recruitment", "ru") == 0.8 and classifier.threshold("recruitment", "en") == 0.5
    overridden = TextClassifier.from_pretrained(tiny, ClassifierSettings(thresholds={"recruitment": 0.3}))
    assert overridden.threshold("recruitment", "ru") == 0.3  # the operator's setting holds in every language
