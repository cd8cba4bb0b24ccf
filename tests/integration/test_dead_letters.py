"""Dead letters on both transports: inspect them, fix the cause, re-drive them, nothing lost or looped."""
from __future__ import annotations

import pytest

from streams import dead_letters
from streams.runner import StageRunner
from streams.transports import open_transport
from tests.factories import raw_document
from tests.integration.test_runner import EchoStage, drain, publish, transport  # noqa: F401 (a fixture)
from vigil.cli import main

pytestmark = pytest.mark.integration


def run_echo(settings, transport, stage):  # noqa: F811
    t = settings.topics
    runner = StageRunner(stage, transport.consumer([t.raw], "echo"), transport.producer(), t.dlq, settings.stage)
    return runner.run(until_drained=True)


def test_dead_letters_are_shown_then_redriven_after_a_fix(backend_settings, transport):  # noqa: F811
    settings, t = backend_settings, backend_settings.topics
    docs = [raw_document(f"https://e.org/{i}", f"text {i}", title="bad" if i % 3 == 0 else f"t{i}") for i in range(9)]
    publish(transport, t.raw, [doc.to_bytes() for doc in docs] + [b"{not json"])
    stats = run_echo(settings, transport, EchoStage(t.raw, t.classified, bad_title="bad"))
    assert stats["processed"] == 6 and stats["dead_lettered"] == 4

    report = dead_letters.inspect(settings, transport)
    assert report.by_stage_and_error == {("echo", "ValueError"): 3, ("echo", "invalid message"): 1}
    assert len(report.latest) == 4 and "4 dead letters" in report.lines()[0]

    # The fix: the stage now handles those documents. Re-drive the echo stage's letters only.
    counts = dead_letters.redrive(settings, transport, stage="echo")
    assert counts == {f"redriven to {t.raw}": 4}
    stats = run_echo(settings, transport, EchoStage(t.raw, t.classified))
    assert stats["processed"] == 3 and stats["dead_lettered"] == 1  # the broken JSON is still broken
    assert sorted(r.value for r in drain(transport, t.classified, expected=9)) == \
        sorted([doc.title.encode() for doc in docs])
    # Already re-driven letters are not sent again; the new letter (failed after that run began) is.
    assert dead_letters.redrive(settings, transport, stage="echo") == {f"redriven to {t.raw}": 1}


def test_a_redrive_run_never_loops_on_letters_that_fail_again(backend_settings, transport):  # noqa: F811
    settings, t = backend_settings, backend_settings.topics
    publish(transport, t.raw, [raw_document("https://e.org/x", "x", title="bad").to_bytes()])
    run_echo(settings, transport, EchoStage(t.raw, t.classified, bad_title="bad"))
    assert dead_letters.redrive(settings, transport) == {f"redriven to {t.raw}": 1}
    run_echo(settings, transport, EchoStage(t.raw, t.classified, bad_title="bad"))  # not fixed: fails again
    assert dead_letters.redrive(settings, transport, stage="other") == {"other_stages": 2}


def test_dlq_commands(settings, capsys):
    log = open_transport(settings)
    log.ensure_topics([settings.topics.raw, settings.topics.dlq])
    publish(log, settings.topics.raw, [b"{not json"])
    stage = EchoStage(settings.topics.raw, settings.topics.classified)
    stage.name = "classify"  # --stage takes the pipeline's stages only
    run_echo(settings, log, stage)
    config = settings.data_dir.parent / "vigil.yaml"
    config.write_text(__import__("yaml").safe_dump(settings.model_dump(mode="json")))
    assert main(["--config", str(config), "dlq", "show"]) == 0
    out = capsys.readouterr().out
    assert "1 dead letter" in out and "classify" in out and "invalid message" in out
    assert main(["--config", str(config), "dlq", "redrive", "--stage", "classify"]) == 0
    assert f'"redriven to {settings.topics.raw}": 1' in capsys.readouterr().out


def test_show_leaves_out_redriven_letters_and_a_cut_letter_is_redriven_whole(backend_settings, transport):  # noqa: F811
    t = backend_settings.topics
    big = raw_document("https://e.org/big", "big " * 12_000, title="bad")  # its letter is cut
    publish(transport, t.raw, [big.to_bytes()])
    backend_settings.stage.dead_letter_max_bytes = 30_000
    run_echo(backend_settings, transport, EchoStage(t.raw, t.classified, bad_title="bad"))
    report = dead_letters.inspect(backend_settings, transport)
    assert report.by_stage_and_error == {("echo", "ValueError"): 1} and report.latest[0].truncated

    assert dead_letters.redrive(backend_settings, transport) == {f"redriven to {t.raw}": 1}
    again = dead_letters.inspect(backend_settings, transport)
    assert sum(again.by_stage_and_error.values()) == 0 and again.redriven == 1
    assert "1 re-driven earlier, not listed" in again.lines()[0]
    consumer = transport.consumer([t.raw], "check")
    values = [r.value for r in consumer.poll(100, 2.0)]
    consumer.close()
    assert values.count(big.to_bytes()) == 2  # the original, then its whole copy from the re-drive
