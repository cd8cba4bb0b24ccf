"""Recording decisions: reasons from the policy list, undo, the outbox that keeps a decision when Kafka is down,
and the commands analysts use (`vigil review`, `vigil show`, `vigil reviews publish`, `vigil export-reviews`)."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import yaml

from streams.errors import TransientError
from streams.reviews import (
    NothingToRetract,
    UnknownDocument,
    UnknownLabels,
    UnknownReason,
    publish_pending,
    record_review,
)
from streams.schemas import ArchiveRef, Decision, ReviewEvent
from streams.stores import open_store
from streams.transports import open_transport
from tests.conftest import FAST_GROUP
from tests.factories import BASE_TIME, classified, raw_document
from vigil.cli import main

pytestmark = pytest.mark.integration

UNREACHABLE = "127.0.0.1:1"  # nothing listens on port 1


def flagged_document():
    raw = raw_document("https://forum.example/t/9", "Join the brigade now and travel to the camp. We need fighters.",
                       title="Call to join", source="forum")
    raw = raw.model_copy(update={"archive": ArchiveRef(warc_sha256="a" * 64, payload_sha256="b" * 64,
                                                       captured_at=BASE_TIME)})
    return classified(raw, {"recruitment": 0.93, "propaganda": 0.2})


@pytest.fixture
def indexed(store_settings):
    """A store holding one flagged document, with its settings."""
    doc = flagged_document()
    with open_store(store_settings) as store:
        store.setup()
        assert store.upsert([doc]) == [None]
        store.record_availability(doc.document.id, {"status": "offline", "checked_at": "2026-11-02T08:00:00+00:00",
                                                    "http_status": 404, "offline_since": "2026-11-02T08:00:00+00:00"})
        store.refresh()
    return store_settings, doc


def decision(doc, value: str, reason: str | None = None, minutes: int = 0, **fields) -> ReviewEvent:
    return ReviewEvent(document_id=doc.document.id, reviewer="analyst-1", decision=value, reason=reason,
                       decided_at=BASE_TIME + timedelta(hours=1, minutes=minutes), **fields)


def read_topic(settings, topic: str, at_least: int) -> list:
    """Every record on the topic: polls until at_least came, then a little longer, to see any duplicate."""
    with open_transport(settings) as transport:
        consumer = transport.consumer([topic], "test-reader")
        records: list = []
        quiet = 0
        for _ in range(40):
            batch = consumer.poll(100, 0.5)
            records += batch
            quiet = 0 if batch else quiet + 1
            if len(records) >= at_least and quiet >= 2:
                break
        consumer.close()
    return records


def test_decisions_need_a_known_reason_and_the_models_labels(indexed):
    settings, doc = indexed
    with open_store(settings) as store:
        with pytest.raises(UnknownReason, match="needs a reason") as error:
            record_review(decision(doc, "confirmed"), store, settings)
        assert "recruitment-call" in str(error.value)  # the known ones are named
        with pytest.raises(UnknownReason, match="'bogus' is not a reason in .*reasons.yaml.*not-violating-news"):
            record_review(decision(doc, "dismissed", "bogus"), store, settings)
        with pytest.raises(UnknownLabels, match="corrected labels \\['jihad'\\]"):
            record_review(decision(doc, "confirmed", "recruitment-call", corrected_labels=["jihad"]), store, settings)
        with pytest.raises(NothingToRetract, match="no standing decision"):
            record_review(decision(doc, "retracted"), store, settings)
        with pytest.raises(UnknownDocument):
            record_review(ReviewEvent(document_id="0" * 32, reviewer="a", decision=Decision.confirmed,
                                      reason="recruitment-call"), store, settings)
        assert store.review_history(doc.document.id) == []
        assert store.get(doc.document.id)["review"]["status"] == "unreviewed"  # nothing recorded


def test_decisions_are_published_in_order_keyed_by_document(backend_settings, tmp_path):
    settings = backend_settings
    doc = flagged_document()
    with open_store(settings) as store:
        store.upsert([doc])
        first = decision(doc, "escalated", "escalate-unsure-language")
        undo = decision(doc, "retracted", minutes=1)
        assert record_review(first, store, settings) == "published"
        assert record_review(undo, store, settings) == "published"
        assert store.unpublished_reviews(10) == []
        assert [entry["published"] for entry in store.review_history(doc.document.id)] == [True, True]
    records = read_topic(settings, settings.topics.reviews, 2)
    assert [ReviewEvent.from_bytes(r.value) for r in records] == [first, undo]
    assert {r.key for r in records} == {doc.document.id.encode()}


def test_a_decision_made_while_kafka_is_down_stands_and_is_published_once_later(settings, kafka_bootstrap):
    doc = flagged_document()
    settings.kafka.bootstrap = UNREACHABLE
    settings.review.publish_timeout_s = 1.0
    event = decision(doc, "confirmed", "recruitment-call", note="clear call to travel")
    with open_store(settings) as store:
        store.upsert([doc])
        started = time.monotonic()
        assert record_review(event, store, settings) == "queued"  # never an error: the decision stands
        assert time.monotonic() - started < 15
        assert store.get(doc.document.id)["review"]["status"] == "confirmed"
        assert store.unpublished_reviews(10) == [event]
        with pytest.raises(TransientError):  # by hand, the outage is reported
            publish_pending(store, settings, timeout_s=1.0)

        settings.kafka.bootstrap, settings.kafka.client = kafka_bootstrap, dict(FAST_GROUP)  # Kafka is back
        assert publish_pending(store, settings) == 1
        assert publish_pending(store, settings) == 0  # marked published: never sent twice
        assert store.unpublished_reviews(10) == []
    records = read_topic(settings, settings.topics.reviews, 1)
    assert [ReviewEvent.from_bytes(r.value).event_id for r in records] == [event.event_id]


# The commands, as analysts run them.

def write_config(tmp_path, settings, **review) -> str:
    data = settings.model_dump(mode="json")
    data["review"] = {**data["review"], **review}
    path = tmp_path / "vigil.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def test_vigil_review_records_who_with_a_reason_and_undoes(indexed, tmp_path, monkeypatch, capsys):
    settings, doc = indexed
    doc_id = doc.document.id
    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    config = write_config(tmp_path, settings)
    assert main(["--config", config, "review", doc_id, "--decision", "escalated",
                 "--reason", "escalate-imminent-threat", "--note", "mentions a date"]) == 0
    out = capsys.readouterr().out
    assert "recorded as alice (the operating-system user; set review.identity to change)" in out
    assert "escalated" in out and "published" in out
    assert main(["--config", config, "review", doc_id, "--decision", "confirmed", "--reason", "recruitment-call",
                 "--labels", "recruitment"]) == 0
    assert main(["--config", config, "review", doc_id, "--decision", "retracted"]) == 0
    capsys.readouterr()
    with open_store(settings) as store:
        assert store.get(doc_id)["review"]["status"] == "escalated"  # the confirmation was undone
        history = store.review_history(doc_id)
    assert [(e["decision"], e["reviewer"], e["reviewer_source"]) for e in history] == [
        ("escalated", "alice", "cli"), ("confirmed", "alice", "cli"), ("retracted", "alice", "cli")]

    named = write_config(tmp_path, settings, identity="analyst-7")
    assert main(["--config", named, "review", doc_id, "--decision", "dismissed", "--reason", "bogus"]) == 2
    error = capsys.readouterr().err
    assert "'bogus' is not a reason" in error and "not-violating-news" in error
    assert main(["--config", named, "review", doc_id, "--decision", "dismissed",
                 "--reason", "not-violating-counter-speech"]) == 0
    assert "recorded as analyst-7 (review.identity)" in capsys.readouterr().out
    assert main(["--config", named, "review", doc_id, "--decision", "confirmed"]) == 2
    assert "needs a reason" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # who decided is no longer free text
        main(["--config", named, "review", doc_id, "--decision", "confirmed", "--reason", "recruitment-call",
              "--reviewer", "bob"])


def test_vigil_show_prints_the_whole_document_and_its_history(indexed, tmp_path, monkeypatch, capsys):
    settings, doc = indexed
    doc_id = doc.document.id
    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    config = write_config(tmp_path, settings)
    assert main(["--config", config, "review", doc_id, "--decision", "escalated", "--reason",
                 "escalate-unsure-language", "--note", "slang"]) == 0
    assert main(["--config", config, "review", doc_id, "--decision", "confirmed", "--reason", "recruitment-call"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "show", doc_id]) == 0
    text = capsys.readouterr().out
    for expected in ("Call to join", "https://forum.example/t/9", "Join the brigade now", "recruitment 0.93",
                     "threshold 0.50", "FLAGGED", "test-model test-1", "offline since 2026-11-02", "a" * 64,
                     "escalate-unsure-language", "recruitment-call", "slang", "alice", "review: confirmed"):
        assert expected in text, expected
    assert text.index("escalated") < text.index("confirmed by alice")  # oldest first
    assert main(["--config", config, "show", doc_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["id"] == doc_id and shown["text"].startswith("Join the brigade")
    assert shown["scores"]["recruitment"] == pytest.approx(0.93) and shown["thresholds"]["recruitment"] == 0.5
    assert shown["evidence"] and shown["model_version"] == "test-1" and shown["archive"]["warc_sha256"] == "a" * 64
    assert shown["availability"]["status"] == "offline"
    assert [(r["decision"], r["reason"], r["reviewer"]) for r in shown["reviews"]] == [
        ("escalated", "escalate-unsure-language", "alice"), ("confirmed", "recruitment-call", "alice")]
    assert {"labels", "note", "decided_at"} <= set(shown["reviews"][0])
    assert main(["--config", config, "show", "0" * 32]) == 1
    assert "no document" in capsys.readouterr().err


def test_vigil_reviews_publish_sends_what_an_outage_queued(settings, kafka_bootstrap, tmp_path, monkeypatch, capsys):
    doc = flagged_document()
    with open_store(settings) as store:
        store.upsert([doc])
    monkeypatch.setattr("getpass.getuser", lambda: "alice")
    settings.kafka.bootstrap = UNREACHABLE
    down = write_config(tmp_path, settings, publish_timeout_s=1.0)
    assert main(["--config", down, "review", doc.document.id, "--decision", "confirmed",
                 "--reason", "recruitment-call"]) == 0
    assert "queued: Kafka unreachable, `vigil reviews publish` sends it later" in capsys.readouterr().out
    settings.kafka.bootstrap, settings.kafka.client = kafka_bootstrap, dict(FAST_GROUP)
    up = write_config(tmp_path, settings)
    assert main(["--config", up, "reviews", "publish"]) == 0
    assert "1 decision published" in capsys.readouterr().out
    assert main(["--config", up, "reviews", "publish"]) == 0
    assert "nothing to publish" in capsys.readouterr().out


def test_export_reviews_uses_the_standing_decision_and_skips_retracted(store_settings, tmp_path, capsys):
    settings = store_settings
    changed = classified(raw_document("https://e.org/1", "join the brigade", source="s"), {"recruitment": 0.9})
    undone = classified(raw_document("https://e.org/2", "glory to the heroes", source="s"), {"propaganda": 0.8})
    restored = classified(raw_document("https://e.org/3", "travel to the camp", source="s"), {"recruitment": 0.7})
    with open_store(settings) as store:
        store.setup()
        store.upsert([changed, undone, restored])
        for n, (doc, value, reason) in enumerate([
                (changed, "confirmed", "recruitment-call"), (changed, "dismissed", "not-violating-fiction"),
                (undone, "confirmed", "propaganda-glorification"), (undone, "retracted", None),
                (restored, "confirmed", "recruitment-call"), (restored, "dismissed", "not-violating-news"),
                (restored, "retracted", None)]):
            record_review(decision(doc, value, reason, minutes=n), store, settings)
        store.refresh()
    config = write_config(tmp_path, settings)
    assert main(["--config", config, "export-reviews", "--output", str(tmp_path / "out")]) == 0
    rows = {row["id"]: row for name in ("train.jsonl", "frozen-eval.jsonl")
            for row in map(json.loads, (tmp_path / "out" / name).read_text().splitlines())}
    assert set(rows) == {changed.document.id, restored.document.id}  # all of `undone`'s decisions were withdrawn
    assert rows[changed.document.id]["decision"] == "dismissed" and rows[changed.document.id]["labels"] == []
    assert rows[restored.document.id]["decision"] == "confirmed"
    assert rows[restored.document.id]["labels"] == ["recruitment"]
