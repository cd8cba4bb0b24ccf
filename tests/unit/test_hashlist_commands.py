"""`vigil hashlist` on the embedded store: lists made, filled, shown, exported, imported and trimmed, refusals
that say what to do, and banking a confirmed document with its decision as provenance."""
from __future__ import annotations

import io
import json
import re

import pytest
from PIL import Image, ImageDraw

from streams.reviews import record_review
from streams.schemas import ReviewEvent
from streams.stores import open_store
from tests.console.helpers import flagged
from vigil.cli import main

PASSAGE = ("Brothers, the Black Banner Brigade calls every young man of faith to leave the land of the "
           "unbelievers and travel to the front before winter. Bring your savings for the weapons of the "
           "mujahideen, speak to the brother at the mosque who knows the road, and tell nobody in your family.")


@pytest.fixture
def vigil(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path / "data"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def test_a_list_is_created_filled_shown_exported_and_imported(vigil, tmp_path):
    passage, image = tmp_path / "passage.txt", tmp_path / "poster.png"
    passage.write_text(PASSAGE, encoding="utf-8")
    picture = Image.new("RGB", (320, 240), "white")
    ImageDraw.Draw(picture).ellipse((60, 40, 260, 200), fill=(150, 10, 10))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    image.write_bytes(buffer.getvalue())

    code, _, err = vigil("hashlist", "add-text", "bank", "--file", str(passage))
    assert code == 2 and "vigil hashlist create bank" in err  # no such list: how to make one
    assert vigil("hashlist", "create", "bank", "--source", "tests", "--terms", "tests only",
                 "--default-label", "propaganda")[0] == 0
    code, out, _ = vigil("hashlist", "add-text", "bank", "--file", str(passage), "--label", "recruitment")
    assert code == 0 and "2 new entries (text_exact, text_minhash)" in out
    again = vigil("hashlist", "add-text", "bank", "--file", str(passage), "--label", "recruitment")[1]
    assert "0 new entries" in again and "2 already banked" in again
    image_added = re.search(r"(\d+) new entries \(md5, pdq\)", vigil("hashlist", "add-image", "bank", "--file",
                                                                     str(image))[1])
    banked = 2 + int(image_added.group(1))  # MD5, and PDQ of the image and of its centre crops
    assert banked >= 4

    code, out, _ = vigil("hashlist", "list")
    assert code == 0 and f"bank\t{banked} entries\tdefault propaganda\ttests" in out
    code, out, _ = vigil("hashlist", "show", "bank")
    assert code == 0 and out.count("\n  text_") == 2 and "recruitment" in out
    assert all(len(line.split("\t")[2]) == 15 for line in out.splitlines() if line.startswith("  pdq"))  # shortened

    exported = tmp_path / "bank.jsonl"
    assert vigil("hashlist", "export", "bank", "--output", str(exported))[0] == 0
    assert vigil("hashlist", "import", "copy", str(exported))[0] == 0  # Vigil's own format carries the list
    code, out, _ = vigil("hashlist", "export", "copy", "--format", "csv")
    assert code == 0 and out.startswith("signal_type,signal_value,label,note") and out.count("\n") == banked + 1

    bad = tmp_path / "bad.csv"
    bad.write_text("signal_type,signal_value,label,note\npdq,123,propaganda,\n")
    code, _, err = vigil("hashlist", "import", "bank", str(bad))
    assert code == 2 and "row 2" in err and "pdq" in err

    entry = next(line.split("\t")[0].strip() for line in vigil("hashlist", "show", "bank")[1].splitlines()
                 if line.startswith("  md5"))
    assert vigil("hashlist", "remove-entry", "bank", entry)[0] == 0
    code, _, err = vigil("hashlist", "remove-entry", "bank", entry)
    assert code == 2 and "has no entry" in err
    assert f"bank\t{banked - 1} entries" in vigil("hashlist", "list")[1]


def test_only_a_confirmed_document_is_banked_with_its_decision(vigil, tmp_path):
    from streams.config import load_settings

    assert vigil("hashlist", "create", "reviewed", "--source", "our reviews", "--terms", "internal",
                 "--default-label", "recruitment")[0] == 0
    doc = flagged(PASSAGE, {"recruitment": 0.9, "propaganda": 0.2}, source="forum")
    settings = load_settings()
    with open_store(settings) as store:
        store.setup()
        store.upsert([doc])
    doc_id = doc.document.id
    code, _, err = vigil("hashlist", "add-document", doc_id, "--list", "reviewed")
    assert code == 2 and "not confirmed by a reviewer" in err
    with open_store(settings) as store:
        record_review(ReviewEvent(document_id=doc_id, reviewer="olga", decision="confirmed",
                                  reason="recruitment-call"), store, settings)
    code, out, _ = vigil("hashlist", "add-document", doc_id, "--list", "reviewed")
    assert code == 0 and "2 new entries" in out
    code, out, _ = vigil("hashlist", "export", "reviewed")
    entries = [json.loads(line) for line in out.splitlines()]
    banked = [e for e in entries if e.get("document_id") == doc_id]
    assert len(banked) == 2 and all(e["reviewer"] == "olga" and "confirmed" in e["decision"] for e in banked)
    assert all(e["label"] == "recruitment" for e in banked)
