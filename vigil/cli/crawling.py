"""Commands about what is crawled: checking the sources file, re-checking flagged pages, the evidence archive."""
from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

from crawlers.evidence import EvidenceArchive
from crawlers.recheck import Rechecker, private_sources, recheck_flagged
from crawlers.sources import load_sources
from streams.schemas import utcnow
from streams.stores import open_store
from vigil.cli.common import AddCommand, settings_of, sources_file_of


def cmd_sources(args) -> int:
    path = Path(args.file) if args.file else sources_file_of(args, settings_of(args))
    sources = load_sources(path)  # ConfigError names each source and field that is wrong
    print(f"{path}: {len(sources)} source{'s' if len(sources) != 1 else ''}, all valid")
    for source in sources.values():
        politeness = ", ".join(f"{k.lower()} {v}" for k, v in source.scrapy_settings().items()) or "defaults"
        print(f"  {source.id}: {source.kind}, {len(source.start_urls)} start URL(s), depth {source.max_depth}, "
              f"at most {source.max_pages} pages, schedule '{source.schedule}', politeness {politeness}"
              + (", robots.txt IGNORED" if source.robots == "ignore" else ""))
    return 0


def cmd_recheck(args) -> int:
    settings = settings_of(args)
    rechecker = Rechecker(settings.crawler.user_agent, settings.crawler.download_timeout_s)
    with open_store(settings) as store:
        counts = recheck_flagged(store, rechecker, utcnow() - timedelta(hours=args.older_than_hours), args.limit,
                                 private_sources(sources_file_of(args, settings)))
    checked = counts["online"] + counts["offline"]
    print(f"{counts['checked']} flagged pages checked: {counts['online']} online, {counts['offline']} offline "
          f"({counts['newly_offline']} newly), {counts['unknown']} unknown (timeouts, server errors, refused)"
          + (f"; removal rate {counts['offline'] / checked:.1%} of those answered" if checked else ""))
    return 0


def cmd_archive(args) -> int:
    settings = settings_of(args)
    archive = EvidenceArchive(settings.crawler.archive_dir or settings.data_dir / "evidence")
    try:
        record = archive.read(args.sha256)  # checks the hash first
    except (KeyError, ValueError) as exc:
        print(f"vigil archive: {exc}", file=sys.stderr)
        return 1
    if args.action == "verify":
        print(f"intact: {archive.path(args.sha256)} (SHA-256 {args.sha256}), {record['url']} captured "
              f"{record['captured_at']}")
    elif args.payload:
        sys.stdout.buffer.write(record["payload"])
    else:
        print(f"{record['url']}\ncaptured {record['captured_at']}, HTTP {record['status']}")
        for name, value in record["headers"]:
            print(f"{name}: {value}")
        print(f"\n{len(record['payload'])} bytes of payload (--payload writes them)")
    return 0


def register(command: AddCommand) -> None:
    sources = command("sources", cmd_sources, "Check a sources file: every error is named by source id and field.")
    sources.add_argument("action", choices=["check"])
    sources.add_argument("file", nargs="?", help="the sources file (default: crawler.sources_file)")

    recheck = command("recheck", cmd_recheck, "Re-check flagged pages: still online, or taken down? Records the "
                      "outcome and the time a page went offline on its document; prints the removal rate. Run it "
                      "on a schedule (cron, Kubernetes CronJob).")
    recheck.add_argument("--older-than-hours", type=float, default=24, help="re-check pages last checked longer "
                         "ago than this (default 24)")
    recheck.add_argument("--limit", type=int, default=1000, help="most pages checked in one run (default 1000)")
    recheck.add_argument("--sources", help="sources file, for sources that allow private addresses (tests)")

    archive = command("archive", cmd_archive, "The evidence archive: show or verify the WARC capture a document "
                      "references (archive.warc_sha256), to prove what a page said after it was taken down.")
    archive.add_argument("action", choices=["show", "verify"])
    archive.add_argument("sha256", help="the capture's SHA-256 (a document's archive.warc_sha256)")
    archive.add_argument("--payload", action="store_true", help="show: write the archived body to stdout")
