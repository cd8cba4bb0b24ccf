import pytest

from streams.schemas import ClassifiedDocument, DeadLetter, MessageError, RawDocument, document_id, text_sha256
from tests.factories import classified, raw_document


def test_round_trip_on_the_wire():
    raw = raw_document()
    assert RawDocument.from_bytes(raw.to_bytes()) == raw
    doc = classified(raw, {"recruitment": 0.9, "propaganda": 0.1})
    wire = doc.to_bytes()
    assert b'"schema":"vigil.classified/2"' in wire
    assert ClassifiedDocument.from_bytes(wire) == doc


def test_id_is_derived_from_content():
    digest = text_sha256("same text")
    assert document_id("https://a.org/x", digest) == document_id("https://a.org/x", digest)
    assert document_id("https://a.org/x", digest) != document_id("https://a.org/x", text_sha256("changed"))


def test_errors_name_the_field():
    wire = raw_document().to_bytes().replace(b'"http_status":200', b'"http_status":"ok"')
    with pytest.raises(MessageError, match="vigil.raw/2: http_status"):
        RawDocument.from_bytes(wire)
    with pytest.raises(MessageError, match="schema"):
        RawDocument.from_bytes(raw_document().to_bytes().replace(b"vigil.raw/2", b"vigil.raw/9"))
    bad = classified(raw_document(), {"recruitment": 0.5}).to_bytes()
    bad = bad.replace(b'"recruitment":0.5', b'"recruitment":1.5')
    with pytest.raises(MessageError, match="scores"):
        ClassifiedDocument.from_bytes(bad)


def test_dead_letter_keeps_the_original_bytes():
    letter = DeadLetter.of(b"\xff\x00raw", topic="vigil.raw", stage="classify", error="boom", attempts=3)
    assert DeadLetter.from_bytes(letter.to_bytes()).original == b"\xff\x00raw"


def test_messages_of_the_first_versions_still_parse():
    raw = raw_document()
    old_raw = raw.to_bytes().replace(b'"vigil.raw/2"', b'"vigil.raw/1"').replace(b',"images":[]', b"")
    assert b"images" not in old_raw
    assert RawDocument.from_bytes(old_raw).images == []
    doc = classified(raw, {"recruitment": 0.9})
    old = doc.to_bytes().replace(b'"vigil.classified/2"', b'"vigil.classified/1"').replace(b',"matches":[]', b"")
    old = old.replace(b'"vigil.raw/2"', b'"vigil.raw/1"').replace(b',"images":[]', b"")
    assert b"matches" not in old and b"images" not in old
    assert ClassifiedDocument.from_bytes(old).matches == []
