import json
import subprocess
import sys

from streams.cli import build_parser, main

COMMANDS = ["demo", "run", "crawl", "classify", "index", "search", "review", "train", "setup", "config"]


def test_help_lists_every_command():
    text = build_parser().format_help()
    for command in COMMANDS:
        assert command in text


def test_every_command_has_help(capsys):
    for command in COMMANDS:
        try:
            main([command, "--help"])
        except SystemExit as exit:
            assert exit.code == 0
        assert len(capsys.readouterr().out) > 100


def test_bad_configuration_fails_fast_naming_the_field(tmp_path):
    env = {"VIGIL_TOPICS_PARTITIONS": "zero", "PATH": "", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "streams.cli", "config"], capture_output=True, text=True, env=env,
                            cwd=tmp_path)
    assert result.returncode == 2
    assert "topics.partitions" in result.stderr and "'zero'" in result.stderr


def test_search_on_an_empty_store(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    assert main(["search", "anything"]) == 0
    assert "0 matches" in capsys.readouterr().out


def test_search_json_prints_one_object_per_hit(tmp_path, capsys, monkeypatch):
    from streams.stores.sqlite import SqliteStore
    from tests.factories import classified, raw_document

    store = SqliteStore(tmp_path / "store.sqlite")
    store.upsert([classified(raw_document("https://e.org/a", "join the brigade now"), {"recruitment": 0.9}),
                  classified(raw_document("https://e.org/b", "police report"), {"recruitment": 0.1})])
    store.close()
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    assert main(["search", "--flagged", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    hit = json.loads(lines[0])
    assert {"id", "url", "title", "source", "lang", "flagged", "labels", "scores"} <= set(hit)
    assert hit["url"] == "https://e.org/a" and hit["labels"] == ["recruitment"]
