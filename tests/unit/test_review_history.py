"""Decision history without a store: which decision stands after retractions, the policy reasons file, and
review events that older versions of Vigil published."""
from __future__ import annotations

import json

import pytest

from streams.config import ConfigError, VigilSettings
from streams.reviews import policy_reasons, standing_decision
from streams.schemas import Decision, ReviewEvent


def history(*decisions: str) -> list[dict]:
    return [{"event_id": str(n), "decision": decision} for n, decision in enumerate(decisions)]


@pytest.mark.parametrize("decisions, stands", [
    ((), None),
    (("confirmed",), "0"),
    (("confirmed", "dismissed"), "1"),  # a re-review replaces the decision; both stay in the history
    (("confirmed", "escalated", "retracted"), "0"),  # undo restores the decision before
    (("confirmed", "retracted"), None),
    (("confirmed", "escalated", "retracted", "retracted"), None),
    (("confirmed", "retracted", "dismissed"), "2"),
    (("retracted", "confirmed"), "1"),  # a retraction with nothing standing cancels nothing later
    (("confirmed", "escalated", "retracted", "dismissed", "retracted"), "0"),
])
def test_standing_decision_applies_retractions(decisions, stands):
    standing = standing_decision(history(*decisions))
    assert (standing["event_id"] if standing else None) == stands


def test_review_events_of_older_versions_still_parse():
    old = {"schema": "vigil.reviews/1", "document_id": "a" * 32, "reviewer": "analyst-7", "decision": "confirmed",
           "corrected_labels": None, "note": "", "decided_at": "2026-11-01T12:00:00+00:00"}
    event = ReviewEvent.from_bytes(json.dumps(old).encode())
    assert event.reason is None and event.reviewer_source == "cli" and len(event.event_id) == 32
    assert ReviewEvent.from_bytes(event.to_bytes()) == event  # the new fields travel with it
    assert Decision("retracted") is Decision.retracted


def test_decision_times_are_kept_in_utc():
    event = ReviewEvent(document_id="a" * 32, reviewer="a", decision=Decision.confirmed,
                        decided_at="2026-11-01T15:00:00+03:00")
    assert event.decided_at.isoformat() == "2026-11-01T12:00:00+00:00"
    naive = ReviewEvent(document_id="a" * 32, reviewer="a", decision=Decision.confirmed,
                        decided_at="2026-11-01T12:00:00")
    assert naive.decided_at.isoformat() == "2026-11-01T12:00:00+00:00"


def test_the_shipped_reasons_cover_every_decision():
    reasons = policy_reasons(VigilSettings())
    assert {"recruitment-call", "propaganda-glorification", "propaganda-official-media", "not-violating-news",
            "not-violating-counter-speech", "not-violating-research", "not-violating-fiction",
            "escalate-imminent-threat", "escalate-unsure-language"} <= set(reasons)
    assert all(isinstance(text, str) and len(text) > 20 for text in reasons.values())


@pytest.mark.parametrize("content, says", [
    ("reasons: [a, b]\n", "a mapping of reason id to its description"),
    ("reasons:\n  Bad Id: text\n", "'Bad Id' is not a reason id"),
    ("reasons:\n  ok-id: ''\n", "ok-id has no description"),
    ("reasons: {}\n", "lists no reasons"),
    ("other: 1\n", "needs `reasons:`"),
])
def test_a_bad_reasons_file_is_named(tmp_path, content, says):
    path = tmp_path / "reasons.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=says) as error:
        policy_reasons(VigilSettings.model_validate({"review": {"reasons_file": str(path)}}))
    assert str(path) in str(error.value)


def test_a_missing_reasons_file_names_the_setting(tmp_path):
    with pytest.raises(ConfigError, match="review.reasons_file"):
        policy_reasons(VigilSettings.model_validate({"review": {"reasons_file": str(tmp_path / "none.yaml")}}))
