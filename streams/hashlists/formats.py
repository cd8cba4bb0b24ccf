"""Reading and writing hash lists in the formats HMA and ThreatExchange exchange, and in Vigil's own.

- "te_file": the signal file of threatexchange's `file` collaboration (LocalFileSignalExchangeAPI: one
  `<signal_type> <signal>` per line; the CLI appends reported signals the same way, and
  `threatexchange dataset -P -S` prints them so). No labels: the list's default applies.
- "te_dataset_csv": `threatexchange dataset -P --csv`, with its header `signal_type,signal_str,collab,category,
  tags` (category a SignalOpinionCategory name; tags space-separated; a tag that is a Vigil label labels the
  entry). NEGATIVE_CLASS rows are opinions that a hash is *not* violating: they are skipped, and listed.
- "csv" / "tsv": `signal_type,signal_value[,label,note]` rows, an optional header, as HMA's bank content is
  added: a signal type name and its value (HMA's POST /bank/<name>/signal takes the same pairs).
- "vigil_jsonl": the list's metadata, then one entry a line; it carries every field.

Signal type names are threatexchange's (banks.py). A malformed row is refused whole, with a FormatError naming
the row (the line in the file, from 1) and the field.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from threatexchange.exchanges.fetch_state import SignalOpinionCategory

from streams.hashlists.banks import LABELS, Entry, HashList, label_of, validate_signal

FORMATS = ("vigil_jsonl", "csv", "tsv", "te_file", "te_dataset_csv")
TE_DATASET_HEADER = ["signal_type", "signal_str", "collab", "category", "tags"]
SIMPLE_HEADER = ["signal_type", "signal_value", "label", "note"]
EXTENSIONS = {".jsonl": "vigil_jsonl", ".ndjson": "vigil_jsonl", ".tsv": "tsv", ".txt": "te_file"}


class FormatError(ValueError):
    pass


@dataclass
class Parsed:
    entries: list[Entry]
    hash_list: HashList | None = None  # only vigil_jsonl carries the list's metadata
    skipped: list[str] = field(default_factory=list)  # rows deliberately not imported, and why


def entry_id(signal_type: str, value: str) -> str:
    """A stable id for an entry whose format gives none: the same hash gets the same id on every import."""
    return f"{signal_type}-{hashlib.sha256(f'{signal_type}:{value}'.encode()).hexdigest()[:16]}"


def _entry(row: int, signal_type: str, value: str, label: str = "", note: str = "", **extra: Any) -> Entry:
    signal_type = signal_type.strip()
    try:
        value = validate_signal(signal_type, value)
    except ValueError as error:
        where = "signal_type" if str(error).startswith("unknown signal type") else signal_type
        raise FormatError(f"row {row}: {where}: {error}") from None
    label = label.strip()
    if label and label not in LABELS:
        raise FormatError(f"row {row}: label: {label!r} is not one of {', '.join(LABELS)}")
    return Entry(id=extra.pop("id", None) or entry_id(signal_type, value), signal_type=signal_type,
                 value=value, label=label or None, note=note.strip(), **extra)


def _read(source: str | Path) -> tuple[str, str | None]:
    """The text, and the file's extension when it is a file."""
    if isinstance(source, Path):
        return source.read_text(encoding="utf-8-sig"), source.suffix.lower()
    if "\n" not in source and len(source) < 4096:
        path = Path(source)
        try:
            if path.is_file():
                return path.read_text(encoding="utf-8-sig"), path.suffix.lower()
        except OSError:
            pass
    return source, None


def detect(text: str, extension: str | None = None) -> str:
    if extension in EXTENSIONS:
        return EXTENSIONS[extension]
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        raise FormatError("unknown format: no content")
    if first.startswith("{"):
        return "vigil_jsonl"
    if next(csv.reader([first])) == TE_DATASET_HEADER:
        return "te_dataset_csv"
    if "\t" in first:
        return "tsv"
    if extension == ".csv" or "," in first.split(" ")[0] or (first.count(",") and " " not in first):
        return "csv"
    if len(first.split()) == 2:
        return "te_file"
    raise FormatError(f"unknown format: the first line ({len(first)} characters, starting {first[:8]!r}) is not a "
                      "known layout; give --format")


def parse(source: str | Path, format: str | None = None) -> Parsed:
    """Entries (and a list's metadata, where the format has it) from a file path or the text itself."""
    text, extension = _read(source)
    if format is None:
        format = detect(text, extension)
    if format not in FORMATS:
        raise FormatError(f"unknown format {format!r} (known: {', '.join(FORMATS)})")
    if format == "vigil_jsonl":
        return _parse_jsonl(text)
    if format == "te_file":
        return _parse_te_file(text)
    if format == "te_dataset_csv":
        return _parse_te_dataset(text)
    return _parse_simple(text, "\t" if format == "tsv" else ",")


def _parse_jsonl(text: str) -> Parsed:
    hash_list: HashList | None = None
    entries: list[Entry] = []
    for row, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise FormatError(f"row {row}: json: {error.msg}") from None
        if not isinstance(record, dict):
            raise FormatError(f"row {row}: json: not an object")
        kind = record.pop("type", None)
        try:
            if kind == "hash_list":
                if hash_list is not None:
                    raise FormatError(f"row {row}: type: a second hash_list")
                hash_list = HashList.model_validate(record)
            elif kind == "entry":
                if hash_list is None:
                    raise FormatError(f"row {row}: type: an entry before the hash_list")
                if "signal_type" in record and "value" in record:
                    _entry(row, str(record["signal_type"]), str(record["value"]))  # the row-and-field message
                entries.append(Entry.model_validate(record))
            else:
                raise FormatError(f"row {row}: type: {kind!r}, expected 'hash_list' or 'entry'")
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "record"
            raise FormatError(f"row {row}: {where}: {first['msg']}") from None
    if hash_list is None:
        raise FormatError("row 1: type: no hash_list record")
    return Parsed(entries, hash_list)


def _parse_te_file(text: str) -> Parsed:
    entries = []
    for row, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        signal_type, _, value = line.strip().partition(" ")
        if not value.strip():
            raise FormatError(f"row {row}: signal: missing (expected '<signal_type> <signal>')")
        entries.append(_entry(row, signal_type, value))
    return Parsed(entries)


def _rows(text: str, delimiter: str) -> Iterable[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                yield reader.line_num, fields
    except csv.Error as error:
        raise FormatError(f"row {reader.line_num}: csv: {error}") from None


def _parse_te_dataset(text: str) -> Parsed:
    parsed = Parsed([])
    for row, fields in _rows(text, ","):
        if fields == TE_DATASET_HEADER:
            continue
        if len(fields) != len(TE_DATASET_HEADER):
            raise FormatError(f"row {row}: columns: {len(fields)}, expected {len(TE_DATASET_HEADER)}")
        signal_type, value, collab, category, tags = fields
        if category not in SignalOpinionCategory.__members__:
            raise FormatError(f"row {row}: category: {category!r} is not a SignalOpinionCategory")
        if SignalOpinionCategory[category] == SignalOpinionCategory.NEGATIVE_CLASS:
            parsed.skipped.append(f"row {row}: NEGATIVE_CLASS (a false-positive opinion)")
            continue
        labels = [tag for tag in tags.split() if tag in LABELS]
        other = [tag for tag in tags.split() if tag not in LABELS]
        note = " ".join(filter(None, [f"collab={collab}" if collab else "", f"category={category}",
                                      f"tags={' '.join(other)}" if other else ""]))
        parsed.entries.append(_entry(row, signal_type, value, labels[0] if len(labels) == 1 else "", note))
    return parsed


def _parse_simple(text: str, delimiter: str) -> Parsed:
    entries = []
    for row, fields in _rows(text, delimiter):
        if [f.strip().lower() for f in fields[:2]] == SIMPLE_HEADER[:2]:
            continue
        if not 2 <= len(fields) <= 4:
            raise FormatError(f"row {row}: columns: {len(fields)}, expected 2 to 4 (signal_type, signal_value"
                              f"[, label, note])")
        entries.append(_entry(row, *fields))
    return Parsed(entries)


def export(hash_list: HashList, entries: Iterable[Entry], format: str) -> str:
    if format not in FORMATS:
        raise FormatError(f"unknown format {format!r} (known: {', '.join(FORMATS)})")
    entries = list(entries)
    if format == "vigil_jsonl":
        lines = [json.dumps({"type": "hash_list", **hash_list.model_dump(mode="json")}, ensure_ascii=False)]
        lines += [json.dumps({"type": "entry", **e.model_dump(mode="json", exclude_none=True)}, ensure_ascii=False)
                  for e in entries]
        return "\n".join(lines) + "\n"
    if format == "te_file":
        return "".join(f"{e.signal_type} {e.value}\n" for e in entries)
    out = io.StringIO(newline="")
    if format == "te_dataset_csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(TE_DATASET_HEADER)
        for e in entries:
            writer.writerow([e.signal_type, e.value, hash_list.name, SignalOpinionCategory.POSITIVE_CLASS.name,
                             label_of(hash_list, e)])
        return out.getvalue()
    writer = csv.writer(out, delimiter="\t" if format == "tsv" else ",", lineterminator="\n")
    writer.writerow(SIMPLE_HEADER)
    for e in entries:
        if format == "tsv" and any(ch in e.note for ch in "\t\n"):
            raise FormatError(f"entry {e.id}: note: a tab or newline cannot go into a TSV row")
        writer.writerow([e.signal_type, e.value, e.label or "", e.note])
    return out.getvalue()
