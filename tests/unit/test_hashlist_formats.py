"""Import and export: every format round-trips; malformed rows are refused naming the row and the field."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from streams.hashlists import text as t
from streams.hashlists.banks import Entry, HashList
from streams.hashlists.formats import FORMATS, FormatError, detect, entry_id, export, parse

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"  # threatexchange's example
MD5 = "cab08b36195edb1a1231d2d09fa450e0"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
PASSAGE = ("The Iron Crescent Brigade calls every faithful young man to leave the comfort of the cities and join the "
           "caravan of the righteous in the mountains of Varkesh before the winter comes.")
LIST = HashList(name="gifct-sample", source="GIFCT hash-sharing database (test copy)", terms="members only",
                default_label="propaganda", created_at=datetime(2025, 1, 2, tzinfo=timezone.utc))


def entries() -> list[Entry]:
    values = [("pdq", PDQ, "recruitment", "poster, reposted"), ("md5", MD5, None, ""), ("sha256", SHA, None, ""),
              ("text_exact", t.exact_hash(PASSAGE), "recruitment", ""),
              ("text_minhash", t.signature(PASSAGE), None, "statement"), ("video_md5", MD5, None, "")]
    return [Entry(id=entry_id(kind, value), signal_type=kind, value=value, label=label, note=note,  # type: ignore[arg-type]
                  added_at=datetime(2025, 1, 3, tzinfo=timezone.utc)) for kind, value, label, note in values]


def key(entry: Entry, *, labels: bool = True, notes: bool = True) -> tuple:
    return (entry.signal_type, entry.value, entry.label if labels else None, entry.note if notes else "")


def test_vigil_jsonl_carries_everything():
    banked = [e.model_copy(update={"document_id": "ab" * 16, "decision": "confirmed", "reviewer": "r1"})
              for e in entries()]
    parsed = parse(export(LIST, banked, "vigil_jsonl"))
    assert parsed.hash_list == LIST and parsed.entries == banked


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_simple_rows_round_trip(fmt):
    text = export(LIST, entries(), fmt)
    assert text.splitlines()[0] == ("signal_type,signal_value,label,note" if fmt == "csv" else
                                    "signal_type\tsignal_value\tlabel\tnote")
    parsed = parse(text)
    assert parsed.hash_list is None
    assert [key(e) for e in parsed.entries] == [key(e) for e in entries()]
    assert [e.id for e in parsed.entries] == [e.id for e in entries()]  # the same hash gets the same id


def test_threatexchange_file_round_trip():
    text = export(LIST, entries(), "te_file")
    assert text.splitlines()[0] == f"pdq {PDQ}"
    assert detect(text) == "te_file"
    assert [key(e, labels=False, notes=False) for e in parse(text).entries] == \
        [key(e, labels=False, notes=False) for e in entries()]


def test_threatexchange_dataset_csv_round_trip_and_opinions():
    text = export(LIST, entries(), "te_dataset_csv")
    assert text.splitlines()[0] == "signal_type,signal_str,collab,category,tags"
    parsed = parse(text)
    assert [(e.signal_type, e.value, e.label) for e in parsed.entries] == \
        [(e.signal_type, e.value, e.label or LIST.default_label) for e in entries()]
    assert "collab=gifct-sample" in parsed.entries[0].note
    dump = ("signal_type,signal_str,collab,category,tags\n"
            f"pdq,{PDQ},Sample Data,NEGATIVE_CLASS,\n"
            f"video_md5,{MD5},Sample Data,POSITIVE_CLASS,media_priority_s1 recruitment\n")
    parsed = parse(dump)
    assert [(e.signal_type, e.label) for e in parsed.entries] == [("video_md5", "recruitment")]
    assert parsed.skipped == ["row 2: NEGATIVE_CLASS (a false-positive opinion)"]


def test_parse_reads_files_and_detects_by_extension(tmp_path):
    for fmt, name in (("vigil_jsonl", "list.jsonl"), ("tsv", "list.tsv"), ("csv", "list.csv"),
                      ("te_file", "signals.txt"), ("te_dataset_csv", "dump.csv")):
        path = tmp_path / name
        path.write_text(export(LIST, entries(), fmt), encoding="utf-8")
        assert [e.value for e in parse(path).entries] == [e.value for e in entries()], fmt
        assert len(parse(str(path)).entries) == len(entries())


@pytest.mark.parametrize("text,message", [
    ("signal_type,signal_value\npdq,abc\n", "row 2: pdq: not 64 hex digits"),
    (f"pdq,{PDQ}\nmd5,{MD5}\nmd5,xyz\n", "row 3: md5: not 32 hex digits"),
    (f"pdq,{PDQ},sedition\n", "row 1: label: 'sedition' is not one of propaganda, recruitment"),
    (f"url,{PDQ}\n", "row 1: signal_type: unknown signal type 'url'"),
    (f"pdq,{PDQ},propaganda,note,extra\n", "row 1: columns: 5"),
    ("text_minhash,mh1:!!\n", "row 1: text_minhash: MinHash signature chunk does not decode"),
    (f"pdq {PDQ}\nmd5\n", "row 2: signal: missing"),
    ("signal_type,signal_str,collab,category,tags\n"
     f"pdq,{PDQ},c,MAYBE,\n", "row 2: category: 'MAYBE' is not a SignalOpinionCategory"),
])
def test_malformed_rows_name_row_and_field(text, message):
    with pytest.raises(FormatError) as raised:
        parse(text)
    assert str(raised.value).startswith(message)


def test_malformed_jsonl_names_row_and_field():
    good = export(LIST, entries()[:1], "vigil_jsonl").splitlines()
    with pytest.raises(FormatError, match=r"^row 2: json: "):
        parse("\n".join([good[0], "{not json"]), "vigil_jsonl")
    with pytest.raises(FormatError, match=r"^row 2: pdq: not 64 hex digits"):
        parse("\n".join([good[0], good[1].replace(PDQ, PDQ[:-2])]), "vigil_jsonl")
    with pytest.raises(FormatError, match=r"^row 2: label: "):
        parse("\n".join([good[0], good[1].replace('"recruitment"', '"sedition"')]), "vigil_jsonl")
    with pytest.raises(FormatError, match=r"^row 1: name: "):
        parse(good[0].replace("gifct-sample", "GIFCT Sample") + "\n", "vigil_jsonl")
    with pytest.raises(FormatError, match=r"^row 1: type: an entry before the hash_list"):
        parse(good[1] + "\n", "vigil_jsonl")


def test_unknown_formats_are_refused():
    with pytest.raises(FormatError, match="unknown format 'stix'"):
        parse(f"pdq,{PDQ}\n", "stix")
    with pytest.raises(FormatError, match="unknown format 'xml'"):
        export(LIST, entries(), "xml")
    with pytest.raises(FormatError, match="unknown format"):
        parse("<hashes><pdq>nothing here</pdq> and more words</hashes>\n")
    assert set(FORMATS) == {"vigil_jsonl", "csv", "tsv", "te_file", "te_dataset_csv"}
