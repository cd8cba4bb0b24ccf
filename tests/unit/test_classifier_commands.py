"""`vigil predict` and `vigil evaluate` with a tiny local model."""
import io
import json
from pathlib import Path

import pytest

from classifiers.training.recipe import DEFAULT_TRAIN_LAYERS
from tests.unit.tiny_model import build_tiny_model
from vigil.cli import main


@pytest.fixture
def tiny(tmp_path):
    return str(build_tiny_model(tmp_path / "model", thresholds={"recruitment": 0.5, "propaganda": 0.5}))


def test_predict_reads_and_writes_json_lines(tmp_path, tiny, monkeypatch, capsys):
    long_text = (" ".join(["The court heard evidence about the case."] * 60)
                 + " Join the fighters and travel to the front.")
    rows = [{"id": "a", "text": "join the fighters"}, {"id": 7, "text": long_text}]
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(json.dumps(r) + "\n" for r in rows)))
    assert main(["predict", "--model", tiny]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["a", 7]
    for o in out:
        assert set(o["scores"]) == {"recruitment", "propaganda"} and isinstance(o["flagged"], bool)
        assert o["labels"] == [label for label, s in o["scores"].items() if s >= 0.5]
        assert all({"label", "text", "score", "start", "end", "window"} <= set(e) for e in o["evidence"])


def test_predict_names_the_bad_line(tmp_path, tiny, capsys):
    path = tmp_path / "in.jsonl"
    path.write_text('{"id": 1, "text": "fine"}\n{"text": "no id"}\nnot json\n{"id": 4, "text": "also fine"}\n')
    assert main(["predict", "--model", tiny, "--input", str(path), "--output", str(tmp_path / "out.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "skipped line 2: needs `id`" in err and "skipped line 3" in err
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text().splitlines()] == [1, 4]


def test_evaluate_writes_a_report_and_gates_a_release(tmp_path, tiny, capsys):
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"text": t, "labels": labels, "slice": s}) + "\n" for t, labels, s in [
        ("join the fighters and travel to the front", ["recruitment"], "recruit"),
        ("send money to the brigade", ["recruitment"], "recruit"),
        ("police said the attack injured three people", [], "news"),
        ("the court sentenced a recruiter", [], "news"),
        ("glory to the heroes of the operation", ["propaganda"], "praise")] * 4))
    report = tmp_path / "report"
    assert main(["evaluate", "--model", tiny, "--data", str(data), "--report", str(report), "--bootstrap", "20"]) == 0
    assert (report / "report.html").exists() and (report / "slices.png").exists()
    summary = json.loads((report / "summary.json").read_text())
    assert summary["slices"]["news"]["negatives"] == 8 and summary["data"]["examples"] == 20
    assert "report:" in capsys.readouterr().out
    # A candidate that flags everything fails the gate against the tiny model (unless it also does).
    strict = str(build_tiny_model(tmp_path / "strict", thresholds={"recruitment": 0.01, "propaganda": 0.01}))
    code = main(["evaluate", "--model", strict, "--data", str(data), "--report", str(tmp_path / "r2"),
                 "--bootstrap", "0", "--baseline", tiny, "--margin", "0.0"])
    gate = json.loads((tmp_path / "r2" / "summary.json").read_text())["gate"]
    assert (code == 1) == bool(gate)
    baseline_fpr = summary["slices"]["news"]["false_positive_rate"]
    assert bool(gate) == (baseline_fpr < 1.0)


def test_export_reviews_and_uncertain_queue_commands(tmp_path, capsys):
    from streams.schemas import Decision, ReviewEvent
    from streams.stores.sqlite import SqliteStore
    from tests.factories import classified, raw_document

    store = SqliteStore(tmp_path / "data" / "store.sqlite")
    docs = [classified(raw_document(f"https://e.org/{i}", f"text {i}"), {"recruitment": score})
            for i, score in enumerate([0.95, 0.55, 0.3, 0.05])]
    store.upsert(docs)
    store.apply_review(ReviewEvent(document_id=docs[0].document.id, reviewer="a", decision=Decision.confirmed))
    store.close()
    config = tmp_path / "vigil.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\n")
    assert main(["--config", str(config), "export-reviews", "--output", str(tmp_path / "out")]) == 0
    assert "never train on these" in capsys.readouterr().out
    exported = [line for name in ("train.jsonl", "frozen-eval.jsonl")
                for line in (tmp_path / "out" / name).read_text().splitlines()]
    assert len(exported) == 1 and json.loads(exported[0])["labels"] == ["recruitment"]
    assert main(["--config", str(config), "search", "--uncertain", "--json", "--limit", "2"]) == 0
    hits = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [h["scores"]["recruitment"] for h in hits] == [0.55, 0.3]  # nearest the 0.5 threshold first


SHARED = str(Path("../shared/data").resolve())


@pytest.mark.parametrize("argv, layers", [(["--default", "--shared-data", SHARED], DEFAULT_TRAIN_LAYERS),
                                          (["--default", "--train-layers", "0", "--shared-data", SHARED], 0),
                                          (["--data", "d.jsonl", "--output", "out"], 1),
                                          (["--recipe", "default", "--output", "out", "--shared-data", SHARED],
                                           DEFAULT_TRAIN_LAYERS),
                                          (["--recipe", "english", "--output", "out"], 3)])
def test_train_uses_the_recipes_layers_unless_told(argv, layers, tmp_path, monkeypatch, capsys):
    """`vigil train --default` trains the layers the bundled head was trained with, so it reproduces it."""
    from classifiers import default
    from classifiers.training import recipe, train

    calls, held_out = [], []
    monkeypatch.setattr(train, "train", lambda examples, **options: calls.append(options) or
                        {"version": "v", "thresholds": {}, "validation": {}})
    monkeypatch.setattr(train, "add_held_out_figures", lambda output, sets, base: held_out.append(sorted(sets)) or
                        {"version": "v", "thresholds": {}, "validation": {}})
    monkeypatch.setattr(recipe, "shared_negatives", lambda *_: [])
    monkeypatch.setattr(default, "resolve_encoder", lambda reference, _: (f"/encoders/{reference}", str(reference)))
    (tmp_path / "d.jsonl").write_text(json.dumps({"text": "join us", "labels": ["recruitment"]}) + "\n")
    monkeypatch.chdir(tmp_path)
    assert main(["train", *argv]) == 0
    assert calls[0]["train_layers"] == layers
    if "--default" in argv or "default" in argv:
        assert calls[0]["base_model"] == "/encoders/multilingual-e5-small"
        assert calls[0]["data_description"] == recipe.DEFAULT_DATA_DESCRIPTION and "annotated" in \
            calls[0]["data_description"]
        assert held_out == [["annotated:test", "checks", "mhc:ar"]]  # its card gets figures on sets it never saw
    elif "english" in argv:
        assert calls[0]["base_model"] == "/encoders/None"  # all-MiniLM-L6-v2
        assert calls[0]["data_description"] == recipe.ENGLISH_DATA_DESCRIPTION and held_out == []
    else:
        assert calls[0]["data_description"] == "d.jsonl" and held_out == []


def test_train_on_a_file_without_a_source_column_holds_out_rows(tmp_path, tiny, capsys):
    data = tmp_path / "labelled.csv"
    data.write_text("text,labels\n" + "".join(f"join the fighters now brother {i},recruitment\n"
                                              f"police report {i} on the attack,\n" for i in range(10)))
    assert main(["train", "--data", str(data), "--base-model", tiny, "--output", str(tmp_path / "out"),
                 "--labels", "recruitment"]) == 0
    assert json.loads(capsys.readouterr().out)["validation"]["per_label"]["recruitment"]["support"] > 0


def test_train_refuses_labels_outside_the_label_set(tmp_path, tiny, capsys):
    data = tmp_path / "labelled.jsonl"
    data.write_text("".join(json.dumps({"text": f"text {i}", "labels": ["recruitment" if i % 2 else "bogus"]}) + "\n"
                            for i in range(20)))
    assert main(["train", "--data", str(data), "--base-model", tiny, "--output", str(tmp_path / "out"),
                 "--labels", "recruitment,propaganda"]) == 2
    assert "labels ['bogus'] outside the label set ['recruitment', 'propaganda'] (10 examples)" in \
        capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_corrected_labels_must_be_the_models_and_an_empty_list_means_none(tmp_path, capsys):
    from streams.stores.sqlite import SqliteStore
    from tests.factories import classified, raw_document

    doc = classified(raw_document("https://e.org/a", "join the brigade"), {"recruitment": 0.9, "propaganda": 0.2})
    with SqliteStore(tmp_path / "data" / "store.sqlite") as store:
        store.upsert([doc])
    config = tmp_path / "vigil.yaml"
    config.write_text(f"data_dir: {tmp_path / 'data'}\n")
    review = ["--config", str(config), "review", doc.document.id, "--decision", "dismissed",
              "--reason", "not-violating-news"]
    assert main([*review, "--labels", "bogus"]) == 2
    assert "corrected labels ['bogus'] are not labels of" in capsys.readouterr().err
    with SqliteStore(tmp_path / "data" / "store.sqlite") as store:
        assert store.get(doc.document.id)["review"]["status"] == "unreviewed"  # nothing recorded
    assert main([*review, "--labels", ""]) == 0
    with SqliteStore(tmp_path / "data" / "store.sqlite") as store:
        assert store.get(doc.document.id)["review"]["corrected_labels"] == []


def test_training_records_languages_and_held_out_figures_per_language(tmp_path, tiny):
    from classifiers.training.examples import Example
    from classifiers.training.train import add_held_out_figures, train

    examples = [Example(f"{word} {i}", frozenset({"recruitment"}) if i % 2 else frozenset(), f"{lang}-{i}", "", lang)
                for lang, word in (("en", "join the fighters"), ("ru", "вступай в ряды")) for i in range(400)]
    out = tmp_path / "out"
    meta = train(examples, base_model=tiny, output=out, labels=["recruitment"], epochs=2)
    assert meta["training"]["languages"] == ["en", "ru"]
    assert set(meta["validation"]["languages"]) == {"en", "ru"}  # 160 each: enough for a threshold of its own
    assert all(set(chosen) <= {"recruitment"} for chosen in meta["thresholds_by_language"].values())
    held_out = [Example("join the fighters 9001", frozenset({"recruitment"}), "h", "", "en"),
                Example("вступай в ряды 9002", frozenset(), "h", "", "ru")]
    meta = add_held_out_figures(out, {"mine": held_out}, tiny)
    assert meta["evaluation"]["mine"]["en"]["positives"] == 1 and meta["evaluation"]["mine"]["ru"]["positives"] == 0
    assert meta["evaluation"]["mine"]["ru"]["recall"] is None
    assert "| mine | ru | 1 | 0 |" in (out / "README.md").read_text()
