"""`vigil hashlist`: hash lists of confirmed content (create, import, add-text, add-image, add-document, list,
show, remove-entry, export). The lists live in the store; the classify stage picks up a change on its own.

Lists can hold hashes of illegal content: values are printed only by `export`, and shortened by `show`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vigil.cli.common import AddCommand, settings_of

LABELS = ("propaganda", "recruitment")


def _fail(action: str, message: str) -> int:
    print(f"vigil hashlist {action}: {message}", file=sys.stderr)
    return 2


def _list_or_create(store, args):
    """The named list; created from --source, --terms and --label when it does not exist yet. None: neither."""
    from streams.hashlists.banks import HashList

    existing = store.hashlist(args.name)
    if existing is not None:
        return existing
    if not (args.source and args.terms and args.default_label):
        return None
    hashlist = HashList(name=args.name, source=args.source, terms=args.terms, default_label=args.default_label)
    store.save_hashlist(hashlist)
    print(f"created hash list {hashlist.name} ({hashlist.source}; terms: {hashlist.terms})")
    return hashlist


def _no_list(action: str, name: str) -> int:
    return _fail(action, f"no hash list {name!r}: create it first (`vigil hashlist create {name} --source S "
                 "--terms T --default-label propaganda`), or give those options here")


def _add(store, action: str, name: str, entries) -> int:
    added = store.add_entries(name, entries)
    kinds = ", ".join(sorted({entry.signal_type for entry in entries}))
    print(f"{name}: {added} new entr{'y' if added == 1 else 'ies'} ({kinds}); "
          f"{len(entries) - added} already banked (label and note replaced). Running classify stages pick "
          "the change up on their own.")
    return 0


def cmd_hashlist(args) -> int:
    from streams.hashlists.banks import HashList
    from streams.hashlists.entries import image_entries, text_entries
    from streams.hashlists.formats import FORMATS, FormatError, export, parse
    from streams.hashlists.images import ImageSkipped, hash_image, pdq_variants
    from streams.stores import open_store

    action = args.action
    if action != "list" and not args.name:
        return _fail(action, "name the list (add-document: the document id); `vigil hashlist --help` shows how")
    args.file = args.file or (args.target if action == "import" else None)
    args.entry = args.target if action == "remove-entry" else None
    if action in ("import", "add-text", "add-image") and not args.file:
        return _fail(action, "name the file: " + ("vigil hashlist import NAME FILE" if action == "import"
                                                  else f"vigil hashlist {action} NAME --file F"))
    if action == "create" and not (args.source and args.terms and args.default_label):
        return _fail(action, "a list needs --source, --terms and --default-label (propaganda or recruitment)")
    with open_store(settings_of(args)) as store:
        if action == "create":
            if store.hashlist(args.name) is not None:
                return _fail(action, f"hash list {args.name!r} exists already (`vigil hashlist show {args.name}`)")
            store.save_hashlist(HashList(name=args.name, source=args.source, terms=args.terms,
                                         default_label=args.default_label))
            print(f"created hash list {args.name}")
            return 0
        if action == "list":
            counts = store.count_entries()
            lists = store.hashlists()
            if not lists:
                print("no hash lists (`vigil hashlist create NAME ...`, or `vigil hashlist import NAME FILE`)")
            for hashlist in lists:
                print(f"{hashlist.name}\t{counts.get(hashlist.name, 0)} entries\tdefault {hashlist.default_label}\t"
                      f"{hashlist.source}\tterms: {hashlist.terms}")
            return 0
        if action == "import":
            try:
                parsed = parse(Path(args.file), args.format)
            except FormatError as exc:
                return _fail(action, f"{args.file}: {exc}")
            except OSError as exc:
                return _fail(action, f"cannot read {args.file}: {exc}")
            hashlist = store.hashlist(args.name)
            if hashlist is None and parsed.hash_list is not None:  # Vigil's own format carries the list
                hashlist = HashList.model_validate({**parsed.hash_list.model_dump(), "name": args.name})
                store.save_hashlist(hashlist)
            if hashlist is None and _list_or_create(store, args) is None:
                return _no_list(action, args.name)
            for reason in parsed.skipped:
                print(f"  skipped: {reason}")
            return _add(store, action, args.name, parsed.entries)
        if action in ("add-text", "add-image"):
            if _list_or_create(store, args) is None:
                return _no_list(action, args.name)
            fields = {"label": args.label, "note": args.note or ""}
            try:
                if action == "add-text":
                    entries = text_entries(Path(args.file).read_text(encoding="utf-8"), **fields)
                else:
                    data = Path(args.file).read_bytes()
                    image = hash_image(data, Path(args.file).resolve().as_uri())
                    entries = image_entries(image, pdq_variants(data).values(), **fields)
            except OSError as exc:
                return _fail(action, f"cannot read {args.file}: {exc}")
            except ImageSkipped as exc:
                return _fail(action, f"{args.file}: not hashed: {exc}")
            except (ValueError, UnicodeDecodeError) as exc:
                return _fail(action, f"{args.file}: {exc}")
            return _add(store, action, args.name, entries)
        if action == "add-document":
            return _add_document(store, args, text_entries, image_entries)
        hashlist = store.hashlist(args.name)
        if hashlist is None:
            return _fail(action, f"no hash list {args.name!r} (`vigil hashlist list` shows them)")
        if action == "show":
            entries = sorted((entry for _, entry in store.hashlist_entries(args.name)),
                             key=lambda entry: (entry.added_at, entry.id))
            print(f"{hashlist.name}: {len(entries)} entries, default label {hashlist.default_label}\n"
                  f"  source {hashlist.source}\n  terms {hashlist.terms}\n  created {hashlist.created_at:%Y-%m-%d}")
            for entry in entries[-args.limit:] if args.limit else entries:
                provenance = f" document {entry.document_id} ({entry.decision})" if entry.document_id else ""
                print(f"  {entry.id}\t{entry.signal_type}\t{entry.value[:12]}...\t{entry.label or 'default'}\t"
                      f"{entry.added_at:%Y-%m-%d}{provenance}\t{entry.note}")
            return 0
        if action == "remove-entry":
            if not args.entry:
                return _fail(action, "name the entry: vigil hashlist remove-entry LIST ENTRY_ID")
            if not store.remove_entry(args.name, args.entry):
                return _fail(action, f"{args.name} has no entry {args.entry!r} (`vigil hashlist show {args.name}`)")
            print(f"{args.name}: removed {args.entry}")
            return 0
        if action == "export":
            args.format = args.format or "vigil_jsonl"
            if args.format not in FORMATS:
                return _fail(action, f"--format must be one of {', '.join(FORMATS)}")
            text = export(hashlist, (entry for _, entry in store.hashlist_entries(args.name)), args.format)
            if args.output:
                Path(args.output).write_text(text, encoding="utf-8")
                print(f"wrote {args.output}", file=sys.stderr)
            else:
                sys.stdout.write(text)
            return 0
    return _fail(action, "unknown action")


def _add_document(store, args, text_entries, image_entries) -> int:
    """Bank a document a reviewer confirmed: its text and its images, with the decision as provenance."""
    from streams.reviews import standing_decision

    action, doc_id = "add-document", args.name
    if not args.list:
        return _fail(action, "name the list: vigil hashlist add-document ID --list NAME")
    hashlist = store.hashlist(args.list)
    if hashlist is None:
        return _no_list(action, args.list)
    doc = store.get(doc_id)
    if doc is None:
        return _fail(action, f"no document {doc_id} in the {store.name} store (find ids with `vigil search`)")
    history = store.review_history(doc_id)
    standing = standing_decision(history) if history else None
    if not standing or standing.get("decision") != "confirmed":
        return _fail(action, f"{doc_id} is not confirmed by a reviewer (standing decision: "
                     f"{(standing or {}).get('decision', 'none')}); only confirmed content is banked")
    labels = standing.get("labels") if standing.get("labels") is not None else doc.get("labels") or []
    label = args.label or (hashlist.default_label if hashlist.default_label in labels or not labels else labels[0])
    if label not in LABELS:
        return _fail(action, f"{doc_id} was confirmed as {label!r}; hash lists hold {' or '.join(LABELS)}: "
                     "give --label")
    fields = {"label": label, "note": args.note or doc.get("title", "")[:200], "document_id": doc_id,
              "decision": f"confirmed {standing.get('decided_at', '')} ({standing.get('reason') or 'no reason'})",
              "reviewer": standing.get("reviewer")}
    entries = []
    if (doc.get("text") or "").strip():
        entries += text_entries(doc["text"], **fields)
    for image in doc.get("images") or []:
        from streams.schemas import ImageRef

        entries += image_entries(ImageRef.model_validate(image), **fields)
    if not entries:
        return _fail(action, f"{doc_id} has neither text nor hashed images to bank")
    return _add(store, action, args.list, entries)


def register(command: AddCommand) -> None:
    hashlist = command("hashlist", cmd_hashlist, "Hash lists of confirmed content (GIFCT, HMA/ThreatExchange "
                       "exports, your own reviewed documents): a match flags a document whatever the model scored. "
                       "For operators; Vigil ships no real list.")
    hashlist.formatter_class = argparse.RawDescriptionHelpFormatter
    hashlist.epilog = """actions:
  create NAME --source S --terms T --default-label L   a new, empty list
  import NAME FILE [--format F]       entries in the formats HMA and ThreatExchange exchange (see --format)
  add-text NAME --file F [--label L]  bank a passage (exact hash and MinHash near-copy signature)
  add-image NAME --file F [--label L] bank an image (PDQ and MD5)
  add-document ID --list NAME         bank a document a reviewer confirmed, text and images
  list | show NAME | remove-entry NAME ENTRY | export NAME [--format F] [--output FILE]"""
    hashlist.add_argument("action", choices=["create", "import", "add-text", "add-image", "add-document", "list",
                                             "show", "remove-entry", "export"])
    hashlist.add_argument("name", nargs="?", help="the list's name (add-document: the document id)")
    hashlist.add_argument("target", nargs="?", help="import: the file; remove-entry: the entry id")
    hashlist.add_argument("--file", help="add-text, add-image: the text or image file")
    hashlist.add_argument("--list", help="add-document: the list to bank it in")
    hashlist.add_argument("--label", choices=LABELS, help="the entries' own label (default: the list's)")
    hashlist.add_argument("--note", help="a note on the entries (where the content came from)")
    hashlist.add_argument("--format", help="import: te_file, te_dataset_csv, csv, tsv or vigil_jsonl (default: "
                          "from the file); export: the same (default vigil_jsonl, which keeps everything)")
    hashlist.add_argument("--output", help="export: write to this file instead of standard output")
    hashlist.add_argument("--limit", type=int, default=50, help="show: the newest entries shown (0: all)")
    hashlist.add_argument("--source", help="create (or a first import/add): who supplied the list")
    hashlist.add_argument("--terms", help="create: the licence or terms of use (whether it may be re-shared)")
    hashlist.add_argument("--default-label", dest="default_label", choices=LABELS,
                          help="create: the label of entries that carry none")
