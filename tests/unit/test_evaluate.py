"""Evaluation metrics on known cases, the report files, the release gate, and the contrastive suite."""
import json
import math

import numpy as np
import pytest

from classifiers.training.checks import CHECKS, check_examples
from classifiers.training.datasets import load, read_examples
from classifiers.training.evaluate import Scored, compare, evaluate
from classifiers.training.examples import Example
from classifiers.training.metrics import at_threshold, average_precision, calibration, recall_at_precision
from classifiers.training.report import write_report


def test_metrics_at_threshold_and_ranking():
    truth = np.array([True, True, False, False, True, False])
    scores = np.array([0.9, 0.8, 0.7, 0.2, 0.4, 0.1])
    m = at_threshold(scores >= 0.5, truth)
    assert (m["tp"], m["fp"], m["fn"], m["tn"]) == (2, 1, 1, 2)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(4 / 6) and m["flags_per_10k"] == pytest.approx(5000)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3) / 2)  # the negative class: tn 2, fp 1, fn 1
    lopsided = at_threshold(np.array([True] * 6), truth)  # flags everything: the negatives' F1 is 0
    assert lopsided["macro_f1"] == pytest.approx((2 * 3 / 9) / 2)
    # ranks of the positives: 1, 2, 4 -> precisions 1, 1, 3/4
    assert average_precision(scores, truth) == pytest.approx((1 + 1 + 0.75) / 3)
    assert recall_at_precision(scores, truth, 0.9) == {"recall": pytest.approx(2 / 3), "threshold": 0.8}
    assert math.isnan(at_threshold(scores >= 0.5, np.zeros(6, bool))["f1"])  # no positives: undefined


def test_calibration_error_and_brier():
    perfect = calibration(np.array([0.0, 0.0, 1.0, 1.0]), np.array([False, False, True, True]))
    assert perfect["ece"] == 0 and perfect["brier"] == 0
    overconfident = calibration(np.array([0.95] * 10), np.array([True] * 5 + [False] * 5))
    assert overconfident["ece"] == pytest.approx(0.45) and overconfident["brier"] == pytest.approx(0.4525)


def scored_suite(fp_rate_news: float) -> Scored:
    examples, probabilities = [], []
    for i in range(40):
        examples.append(Example(f"join {i}", frozenset({"recruitment"}), f"g{i}", "recruit", "en"))
        probabilities.append([0.9])
    for i in range(40):
        examples.append(Example(f"news {i}", frozenset(), f"n{i}", "news", "en"))
        probabilities.append([0.8 if i < fp_rate_news * 40 else 0.1])
    for i in range(5):
        examples.append(Example(f"вступай {i}", frozenset({"recruitment"}), f"r{i}", "recruit", "ru"))
        probabilities.append([0.2])
    return Scored(examples, ["recruitment"], {"recruitment": 0.5}, np.array(probabilities))


def test_evaluate_reports_slices_languages_and_intervals():
    summary = evaluate(scored_suite(0.25), rounds=200)
    news = summary["slices"]["news"]
    assert news["false_positive_rate"] == pytest.approx(0.25) and news["negatives"] == 40
    low, high = news["false_positive_rate_ci"]
    assert low < 0.25 < high
    assert summary["slices"]["recruit"]["recall"] == pytest.approx(40 / 45)
    by_language = summary["labels"]["recruitment"]["by_language"]
    assert by_language["en"]["validated"] and not by_language["ru"]["validated"]  # 5 Russian cases
    assert by_language["ru"]["recall"] == 0


def test_report_files_and_the_release_gate(tmp_path):
    baseline = evaluate(scored_suite(0.05), rounds=0)
    candidate_scored = scored_suite(0.25)
    candidate = evaluate(candidate_scored, rounds=50)
    gate = compare(candidate, baseline, margin=0.02)
    assert len(gate) == 1 and gate[0].startswith("news: false-positive rate 0.250")
    assert compare(baseline, candidate, margin=0.02) == []  # fewer false positives pass
    files = write_report(candidate_scored, candidate, tmp_path / "report", title="t", intro=["x"], gate=gate)
    names = {f.name for f in files}
    assert {"report.md", "report.html", "summary.json", "reliability.png", "precision_recall.png",
            "slices.png"} <= names
    assert all((tmp_path / "report" / name).stat().st_size > 0 for name in names)
    assert (tmp_path / "report" / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())  # valid JSON (no NaN)
    assert summary["gate"] == gate
    assert "FAILED" in (tmp_path / "report" / "report.md").read_text()


def test_contrastive_suite_pairs_violating_and_non_violating_uses():
    examples = check_examples()
    languages = {e.lang for e in examples}
    assert languages == {"en", "ru", "ar", "zh", "fa", "uz", "kk", "ps", "ur", "ky", "tg"}
    violating = {name for name, (labels, _) in CHECKS.items() if labels}
    assert violating == {"recruit_direct", "recruit_travel", "recruit_fund", "glorify_attack", "glorify_leader",
                         "official_media"}
    for lang in languages:  # every functionality in every language
        assert {e.slice for e in examples if e.lang == lang} == {f"{lang}/{name}" for name in CHECKS}
    texts = [e.text for e in examples]
    assert len(texts) == len(set(texts)) and all("{" not in t for t in texts)
    from classifiers.training.seed import GROUPS as TRAINING_GROUPS
    assert not any(group in text for group in TRAINING_GROUPS for text in texts)  # unseen groups
    assert load("checks") == examples


def test_files_with_languages_and_slices(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"text": "join us", "labels": ["recruitment"], "lang": "en", "slice": "x"}\n'
                    '{"text": "новости", "labels": [], "lang": "ru"}\n')
    examples = read_examples(path)
    assert examples[0].slice == "x" and examples[1].lang == "ru" and examples[1].labels == frozenset()
    (tmp_path / "bad.jsonl").write_text("{not json\n")
    with pytest.raises(ValueError, match="line 1 is not JSON"):
        read_examples(tmp_path / "bad.jsonl")
    with pytest.raises(FileNotFoundError, match="named dataset"):
        load(str(tmp_path / "missing.jsonl"))


def test_armpro_splits_load_with_their_published_counts():
    test, dev = load("armpro:test"), load("armpro:dev")
    assert (len(test), sum(bool(e.labels) for e in test)) == (1326, 813)  # the dataset's README and COUNTS.md
    assert (len(dev), sum(bool(e.labels) for e in dev)) == (672, 418)
    assert {label for e in test for label in e.labels} == {"propagandistic"} and {e.lang for e in test} == {"ar"}
    with pytest.raises(ValueError, match="dev and test"):
        load("armpro:train")
