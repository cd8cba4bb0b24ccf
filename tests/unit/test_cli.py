"""The command line: every command the parser has is listed and explained, and errors are clear."""
import argparse
import json
import re
import subprocess
import sys

import pytest

from vigil.cli import build_parser, main


def commands() -> dict[str, argparse.ArgumentParser]:
    """Every command, as the parser knows it (so a new command is checked without being listed here)."""
    return next(action for action in build_parser()._actions
                if isinstance(action, argparse._SubParsersAction)).choices


def test_there_are_commands_to_check():
    assert {"demo", "run", "crawl", "classify", "index", "search", "review", "train", "setup", "config"} \
        <= set(commands())


def test_top_level_help_lists_and_explains_every_command():
    text = build_parser().format_help()
    for name in commands():
        assert re.search(rf"^ {{4}}{re.escape(name)}\s+\S", text, re.MULTILINE), f"{name} missing from vigil --help"


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_explains_itself_and_each_of_its_arguments(name, capsys):
    parser = commands()[name]
    with pytest.raises(SystemExit) as exit:
        main([name, "--help"])
    assert exit.value.code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert out.startswith(f"usage: vigil {name}")
    assert " ".join(parser.description.split()) in out
    for action in parser._actions:
        if action.dest != "help":
            assert action.help or action.choices, f"vigil {name}: {action.option_strings or action.dest} has no help"


def test_bad_configuration_fails_fast_naming_the_field(tmp_path):
    env = {"VIGIL_TOPICS_PARTITIONS": "zero", "PATH": "", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "vigil", "config"], capture_output=True, text=True, env=env,
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
