"""Operator mistakes end in a message that names what is wrong, never a traceback (issue 9's list), run as a
user runs them: the `vigil` command in a fresh process."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from streams.stores.sqlite import SqliteStore
from tests.factories import classified, raw_document

VIGIL = [sys.executable, "-m", "vigil"]


def vigil(*args: str, env: dict | None = None, cwd=None, stdin: str | None = None) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("VIGIL_")}
    return subprocess.run([*VIGIL, *args], capture_output=True, text=True, env={**environment, **(env or {})},
                          cwd=cwd, input=stdin, timeout=120)


@pytest.mark.parametrize("args, env, code, says", [
    (["review", "0" * 32, "--decision", "confirmed", "--reason", "recruitment-call"], {"VIGIL_REVIEW_IDENTITY": ""}, 2,
     "review.identity: String should have"),
    (["review", "0" * 32, "--decision", "confirmed", "--reason", "x"], {"VIGIL_REVIEW_REASONS_FILE": "/nonexistent"},
     2, "review.reasons_file /nonexistent does not exist"),
    (["config"], {"VIGIL_LOG_LEVEL": "LOUD"}, 2, "'LOUD' is not a logging level"),
    (["search", "x"], {"VIGIL_DATA_DIR": "/proc/nope"}, 1, "/proc/nope"),
    (["search", "x"], {"VIGIL_ELASTICSEARCH_URL": "notaurl"}, 2, "elasticsearch.url"),
    (["sources", "check", "/tmp"], {}, 2, "is a folder"),
    (["evaluate", "--data", "/nonexistent.jsonl", "--report", "r"], {}, 1, "/nonexistent.jsonl: no such file"),
    (["export-reviews", "--output", "/proc/nope/x"], {}, 1, "/proc/nope"),
    (["predict"], {"VIGIL_CLASSIFIER_MODEL": "/nonexistent"}, 2, "classifier.model '/nonexistent' does not load"),
    (["thresholds", "--precision", "1.5", "--data", "x", "--output", "y"], {}, 2, "1.5 is not between 0 and 1"),
    (["export-reviews", "--output", "out", "--frozen-share", "2"], {}, 2, "2.0 is not between 0 and 1"),
    (["search", "--min-score", "5"], {}, 2, "5.0 is not between 0 and 1"),
    (["dlq", "redrive", "--stage", "bogus"], {}, 2, "invalid choice: 'bogus'"),
], ids=lambda value: value if isinstance(value, str) and " " not in value else None)
def test_a_mistake_is_named_without_a_traceback(tmp_path, args, env, code, says):
    result = vigil(*args, env={"VIGIL_DATA_DIR": str(tmp_path / "data"), **env}, cwd=tmp_path,
                   stdin='{"id": 1, "text": "x"}\n')
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code and says in result.stderr, result.stderr


def test_a_sources_file_that_is_not_utf8_is_named(tmp_path):
    bad = tmp_path / "sources.yaml"
    bad.write_bytes(b"sources:\n- id: \xff\xfe\n")
    result = vigil("sources", "check", str(bad), cwd=tmp_path)
    assert result.returncode == 2 and "not UTF-8" in result.stderr and "Traceback" not in result.stderr


def test_output_piped_to_head_stops_quietly(tmp_path):
    with SqliteStore(tmp_path / "data" / "store.sqlite") as store:  # far more output than a pipe buffers
        store.upsert([classified(raw_document(f"https://e.org/{n}", f"text {n}"), {"recruitment": 0.9})
                      for n in range(1500)])
    errors = tmp_path / "stderr.txt"
    command = " ".join(VIGIL) + f" search --flagged --json --limit 2000 2>{errors} | head -1"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "VIGIL_DATA_DIR": str(tmp_path / "data")})
    assert result.stdout.count("\n") == 1 and errors.read_text() == ""


def test_a_label_no_document_has_is_named(tmp_path):
    with SqliteStore(tmp_path / "data" / "store.sqlite") as store:
        store.upsert([classified(raw_document("https://e.org/1", "text"), {"recruitment": 0.9, "propaganda": 0.1})])
    result = vigil("search", "--label", "recruitmnet", env={"VIGIL_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    assert result.returncode == 2 and "no document has a score for label 'recruitmnet'" in result.stderr
    assert "labels in the embedded store: propaganda, recruitment" in result.stderr
    known = vigil("search", "--label", "propaganda", env={"VIGIL_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    assert known.returncode == 0 and "0 matches" in known.stdout  # a known label with no flags is just 0 hits
