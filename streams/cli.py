"""The `vigil` command: run the pipeline or one stage, search and review, train, set up, demo."""
from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from streams.config import ConfigError, VigilSettings, load_settings, settings_as_yaml
from streams.errors import TransientError
from streams.schemas import Decision
from streams.stores.base import REVIEW_STATUSES

DESCRIPTION = """Vigil finds terrorist recruitment and propaganda on the public web and puts every
flag in front of a person. Stages: crawl (Scrapy) -> vigil.raw -> classify -> vigil.classified
-> index (Elasticsearch or the embedded store). Without Kafka or Elasticsearch configured,
everything runs on embedded defaults in the data directory (.vigil)."""

EPILOG = """configuration: a YAML file (--config, VIGIL_CONFIG or ./vigil.yaml) and VIGIL_* variables,
e.g. VIGIL_KAFKA_BOOTSTRAP=host:9092, VIGIL_ELASTICSEARCH_URL=http://host:9200.
`vigil config` prints every setting in effect."""


def _settings(args) -> VigilSettings:
    settings = load_settings(args.config)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if settings.log_level.upper() != "DEBUG":  # clients log every connection attempt and request at INFO
        for chatty in ("kafka", "elastic_transport"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
    return settings


def _sources_file(args, settings: VigilSettings) -> Path:
    return Path(args.sources) if getattr(args, "sources", None) else settings.crawler.sources_file


def _stop_on_signals() -> threading.Event:
    """SIGTERM/SIGINT: stages finish the batch in hand, commit and exit."""
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    return stop


def cmd_config(args) -> int:
    print(settings_as_yaml(_settings(args)), end="")
    return 0


def cmd_setup(args) -> int:
    from streams.pipeline import setup
    from streams.stores import open_store
    from streams.transports import open_transport

    settings = _settings(args)
    transport, store = open_transport(settings), open_store(settings)
    setup(settings, transport, store)
    print(f"topics ready on {transport.name}; store ready on {store.name}"
          + (f" (alias {settings.elasticsearch.alias})" if settings.elasticsearch.url else ""))
    kibana_url = args.kibana or settings.kibana.url
    if kibana_url:
        from streams.kibana import import_saved_objects

        answer = import_saved_objects(settings, kibana_url)
        print(f"Kibana at {kibana_url}: {answer['successCount']} saved objects imported (data view "
              f"'{settings.elasticsearch.alias}', 6 saved searches, the 'Vigil: what is being flagged' dashboard)")
    return 0


def cmd_run(args) -> int:
    from streams.pipeline import STAGES, run_forever, run_once

    settings = _settings(args)
    sources_file = _sources_file(args, settings)
    if args.once:
        summary = run_once(settings, sources_file, args.source or None)
        print("\n".join(summary.lines()))
        return 0
    stages = tuple(args.stages.split(","))
    unknown = set(stages) - set(STAGES)
    if unknown:
        print(f"vigil run: unknown stage {', '.join(sorted(unknown))} (stages: {', '.join(STAGES)})", file=sys.stderr)
        return 2
    totals = run_forever(settings, sources_file, _stop_on_signals(), stages)
    print(json.dumps(totals, indent=2))
    return 0


def cmd_schedule(args) -> int:
    from streams.schedule import Scheduler

    settings = _settings(args)
    sources_file = _sources_file(args, settings)
    scheduler = Scheduler(settings, sources_file, max_parallel=args.max_parallel)
    print(f"scheduling {len(scheduler.sources())} sources from {sources_file} (Ctrl-C to stop)", file=sys.stderr)
    scheduler.run(_stop_on_signals())
    return 0


def cmd_sources(args) -> int:
    from crawlers.sources import load_sources

    path = Path(args.file) if args.file else _sources_file(args, _settings(args))
    sources = load_sources(path)  # ConfigError names each source and field that is wrong
    print(f"{path}: {len(sources)} source{'s' if len(sources) != 1 else ''}, all valid")
    for source in sources.values():
        politeness = ", ".join(f"{k.lower()} {v}" for k, v in source.scrapy_settings().items()) or "defaults"
        print(f"  {source.id}: {source.kind}, {len(source.start_urls)} start URL(s), depth {source.max_depth}, "
              f"at most {source.max_pages} pages, schedule '{source.schedule}', politeness {politeness}"
              + (", robots.txt IGNORED" if source.robots == "ignore" else ""))
    return 0


def cmd_recheck(args) -> int:
    from datetime import timedelta

    from crawlers.recheck import Rechecker, recheck_flagged
    from crawlers.sources import load_sources
    from streams.schemas import utcnow
    from streams.stores import open_store

    settings = _settings(args)
    sources_file = _sources_file(args, settings)
    private = {s.id for s in load_sources(sources_file).values() if s.allow_private_addresses} \
        if sources_file.exists() else set()
    store = open_store(settings)
    counts = recheck_flagged(store, Rechecker(settings.crawler.user_agent, settings.crawler.download_timeout_s),
                             utcnow() - timedelta(hours=args.older_than_hours), args.limit, private)
    store.close()
    checked = counts["online"] + counts["offline"]
    print(f"{counts['checked']} flagged pages checked: {counts['online']} online, {counts['offline']} offline "
          f"({counts['newly_offline']} newly), {counts['unknown']} unknown (timeouts, server errors, refused)"
          + (f"; removal rate {counts['offline'] / checked:.1%} of those answered" if checked else ""))
    return 0


def cmd_archive(args) -> int:
    from crawlers.evidence import EvidenceArchive

    settings = _settings(args)
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


def cmd_crawl(args) -> int:
    from streams.pipeline import crawl_sources

    settings = _settings(args)
    stats = crawl_sources(settings, _sources_file(args, settings), args.source or None,
                          job_dir=Path(args.job_dir) if args.job_dir else None)
    for source_id, source_stats in stats.items():
        print(f"{source_id}: {source_stats.get('response_received_count', 0)} pages, "
              f"{source_stats.get('vigil/published', 0)} documents published, "
              f"finish reason {source_stats.get('finish_reason')}")
    return 0


def _run_stage(args, settings: VigilSettings, runner) -> int:
    from streams.metrics import serve_metrics

    serve_metrics(settings.metrics, [runner])
    stats = runner.run(until_drained=args.once)
    print(json.dumps({runner.stage.name: dict(stats)}, indent=2))
    return 0


def cmd_classify(args) -> int:
    from streams.pipeline import classify_runner
    from streams.transports import open_transport

    settings = _settings(args)
    transport = open_transport(settings)
    transport.ensure_topics([settings.topics.raw, settings.topics.classified, settings.topics.dlq])
    return _run_stage(args, settings, classify_runner(settings, transport, _stop_on_signals()))


def cmd_index(args) -> int:
    from streams.pipeline import index_runner
    from streams.stores import open_store
    from streams.transports import open_transport

    settings = _settings(args)
    transport, store = open_transport(settings), open_store(settings)
    transport.ensure_topics([settings.topics.classified, settings.topics.dlq])
    store.setup()
    return _run_stage(args, settings, index_runner(settings, transport, store, _stop_on_signals()))


def cmd_search(args) -> int:
    from streams.stores import SearchQuery, open_store

    settings = _settings(args)
    store = open_store(settings)
    query = SearchQuery(
        text=" ".join(args.query) or None, label=args.label, flagged=True if args.flagged else None,
        min_score=args.min_score, source=args.source, lang=args.lang, since=args.since, until=args.until,
        review_status=args.review_status, limit=args.limit,
    )
    if args.uncertain:  # unreviewed documents scored near a threshold first: where a decision teaches most
        query.review_status, query.limit = "unreviewed", max(args.limit * 20, 500)
        query.min_score, query.score_below = query.min_score or 0.2, 0.9
    result = store.search(query)
    if args.uncertain:
        result.hits = sorted(result.hits, key=lambda hit: hit.margin)[:args.limit]
    store.close()
    if args.json:
        for hit in result.hits:
            print(json.dumps(hit.as_dict(), ensure_ascii=False))
        return 0
    print(f"{result.total} match{'es' if result.total != 1 else ''} in the {store.name} store"
          + (f", showing {len(result.hits)}" if result.total > len(result.hits) else ""))
    for hit in result.hits:
        flag = "FLAGGED " + ",".join(hit.labels) if hit.flagged else "not flagged"
        top = max(hit.scores.items(), key=lambda kv: kv[1], default=("-", 0.0))
        print(f"\n{hit.title or '(no title)'}\n  {hit.url}\n  {flag} | top score {top[0]} {top[1]:.2f} | "
              f"{hit.source} | {hit.lang} | review: {hit.review_status} | id {hit.id}")
        for evidence in hit.evidence[:2]:
            print(f"  why {evidence['label']}: \"{evidence['text'][:150]}\" ({evidence['score']:.2f})")
    return 0


def cmd_review(args) -> int:
    from streams.schemas import ReviewEvent
    from streams.stores import open_store
    from streams.transports import open_transport

    settings = _settings(args)
    event = ReviewEvent(document_id=args.id, reviewer=args.reviewer, decision=args.decision,
                        corrected_labels=args.labels.split(",") if args.labels is not None else None, note=args.note)
    store = open_store(settings)
    try:
        store.apply_review(event)
    except KeyError:
        print(f"vigil review: no document {args.id} in the {store.name} store (find ids with `vigil search`)",
              file=sys.stderr)
        return 1
    transport = open_transport(settings)
    transport.ensure_topics([settings.topics.reviews])
    producer = transport.producer()
    producer.send(settings.topics.reviews, event.to_bytes(), key=args.id.encode("ascii"))
    producer.close()
    print(f"recorded: {args.decision} by {args.reviewer} on {args.id}")
    return 0


def cmd_dlq(args) -> int:
    from streams import dead_letters
    from streams.transports import open_transport

    settings = _settings(args)
    transport = open_transport(settings)
    transport.ensure_topics([settings.topics.dlq])
    if args.action == "show":
        print("\n".join(dead_letters.inspect(settings, transport, args.latest, _stop_on_signals()).lines()))
        return 0
    counts = dead_letters.redrive(settings, transport, args.stage, _stop_on_signals())
    print(json.dumps(dict(counts), indent=2))
    if counts["left_for_next_run"]:
        print("some messages failed again while re-driving: is the fix deployed? Run again once it is.",
              file=sys.stderr)
    return 0


def cmd_alerts(args) -> int:
    from streams.stores import open_store

    store = open_store(_settings(args))
    alerts = store.recent_alerts(args.limit)
    store.close()
    for alert in alerts:
        print(json.dumps(alert, ensure_ascii=False) if args.json else f"{alert['created_at'][:19]}  {alert['message']}")
    if not alerts and not args.json:
        print("no flag-rate alerts")
    return 0


def cmd_export_reviews(args) -> int:
    from classifiers.feedback import export_reviews
    from streams.stores import open_store

    store = open_store(_settings(args))
    counts = export_reviews(store, Path(args.output), args.frozen_share)
    store.close()
    print(f"{args.output}/train.jsonl: {counts['train']} examples; {args.output}/frozen-eval.jsonl: "
          f"{counts['frozen']} (never train on these)"
          + (f"; {counts['left_out_undecided']} escalations without corrected labels left out"
             if counts["left_out_undecided"] else ""))
    return 0


def cmd_train(args) -> int:
    from classifiers.default import ENCODER_PACKAGE, HEAD_DIR, encoder_dir
    from classifiers.datasets import load
    from classifiers.train import default_recipe, train

    if args.default:
        examples = default_recipe(Path(args.shared_data), args.seed)
        meta = train(examples, base_model=str(encoder_dir()), output=Path(args.output or HEAD_DIR),
                     labels=["recruitment", "propaganda"], head_only=True, seed=args.seed, name="vigil-default",
                     base_model_name=ENCODER_PACKAGE, train_layers=args.train_layers,
                     data_description="Vigil's contrastive seed templates (classifiers/seed.py: recruitment, "
                                      "propaganda, news, counter-speech, research, ordinary speech); the seed "
                                      "positives quoted or referred to inside condemnations, and negated hostility "
                                      "(classifiers/augment.py); hard negatives from shared data: HateCheck "
                                      "non-hateful cases and 1,500 Stormfront noHate sentences. Not trained on: "
                                      "any real terrorist material, Vigil's contrastive checks (classifiers/checks.py), "
                                      "HateCheck's hateful cases, any language but English.")
    else:
        if not args.data or not args.output:
            print("vigil train: give --data FILE... and --output DIR (or --default for the bundled model)",
                  file=sys.stderr)
            return 2
        examples = [e for spec in args.data for e in load(spec, Path(args.shared_data))]
        if args.exclude:  # a frozen evaluation set is never trained on
            from classifiers.datasets import read_examples

            frozen = {e.text for path in args.exclude for e in read_examples(Path(path))}
            examples = [e for e in examples if e.text not in frozen]
            print(f"vigil train: {len(frozen)} frozen texts excluded", file=sys.stderr)
        if args.augment_counter_speech:
            from classifiers.augment import counter_speech

            labels = args.labels.split(",") if args.labels else sorted({l for e in examples for l in e.labels})
            extra = counter_speech(examples, labels, args.seed)
            print(f"vigil train: {len(extra)} counter-speech and negation negatives added", file=sys.stderr)
            examples += extra
        meta = train(examples, base_model=args.base_model or str(encoder_dir()), output=Path(args.output),
                     labels=args.labels.split(",") if args.labels else None, head_only=args.head_only, seed=args.seed,
                     name=args.name, train_layers=args.train_layers,
                     data_description="; ".join(str(p) for p in args.data)
                     + ("; plus counter-speech and negation negatives (classifiers/augment.py)"
                        if args.augment_counter_speech else ""))
    print(json.dumps({"version": meta["version"], "thresholds": meta["thresholds"],
                      "validation": meta["validation"]}, indent=2))
    return 0


def _classifier(args, settings: VigilSettings, thresholds: bool = True):
    from classifiers.registry import ACTIVE, Registry
    from streams.pipeline import load_classifier

    reference = args.model or settings.classifier.model
    if reference == ACTIVE:
        reference = Registry(settings.data_dir).read().active
    return load_classifier(settings, reference, thresholds=thresholds)


def cmd_predict(args) -> int:
    import contextlib

    settings = _settings(args)
    classifier = _classifier(args, settings)
    with contextlib.ExitStack() as files:  # closes what it opened, never stdin or stdout
        source = sys.stdin if args.input == "-" else files.enter_context(open(args.input, encoding="utf-8"))
        sink = sys.stdout if args.output == "-" else files.enter_context(open(args.output, "w", encoding="utf-8"))
        batch: list[dict] = []

        def flush():
            for row, prediction in zip(batch, classifier.predict([row["text"] for row in batch])):
                sink.write(json.dumps({"id": row["id"], "scores": prediction.scores, "labels": prediction.labels,
                                       "flagged": prediction.flagged, "evidence": prediction.evidence},
                                      ensure_ascii=False) + "\n")
            sink.flush()
            batch.clear()

        for n, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict) or not isinstance(row.get("text"), str) or "id" not in row:
                    raise ValueError("needs `id` and a string `text`")
            except ValueError as exc:
                print(f"vigil predict: line {n}: {exc}", file=sys.stderr)
                return 2
            batch.append(row)
            if len(batch) >= args.batch:
                flush()
        flush()
    return 0


def cmd_evaluate(args) -> int:
    from classifiers.datasets import load
    from classifiers.evaluate import compare, evaluate, score
    from classifiers.report import write_report

    settings = _settings(args)
    examples = [e for spec in args.data for e in load(spec, Path(args.shared_data))]
    classifier = _classifier(args, settings)
    print(f"vigil evaluate: {classifier.name} {classifier.version} on {len(examples)} examples "
          f"({', '.join(args.data)})", file=sys.stderr)
    scored = score(classifier, examples)
    summary = evaluate(scored, rounds=args.bootstrap, min_support=args.min_support)
    summary["model"].update(name=classifier.name, version=classifier.version)
    summary["data"]["specs"] = args.data
    gate = None
    if args.baseline:
        from streams.pipeline import load_classifier

        baseline = load_classifier(settings, args.baseline, thresholds=False)
        print(f"baseline: {baseline.name} {baseline.version}", file=sys.stderr)
        gate = compare(summary, evaluate(score(baseline, examples), rounds=0, min_support=args.min_support),
                       args.margin)
    intro = [f"Model {classifier.name}, version {classifier.version}; thresholds {classifier.thresholds}.",
             f"Data: {', '.join(args.data)}: {len(examples)} examples; accuracy (flagged = has a label) "
             f"{summary['accuracy']:.3f}."]
    files = write_report(scored, summary, Path(args.report), title=f"Evaluation of {classifier.version}",
                         intro=intro + ([f"Baseline: {args.baseline}."] if args.baseline else []), gate=gate)
    print(f"report: {files[0]} (also {', '.join(f.name for f in files[1:])})")
    for label, entry in summary["labels"].items():
        m = entry["overall"]
        print(f"  {label}: precision {m['precision']:.3f}, recall {m['recall']:.3f}, F1 {m['f1']:.3f}, "
              f"accuracy {m['accuracy']:.3f}, PR-AUC {m['pr_auc']:.3f}")
    if gate:
        print("release gate FAILED:\n  " + "\n  ".join(gate), file=sys.stderr)
        return 1
    return 0


def cmd_model(args) -> int:
    import getpass

    from classifiers.registry import Registry

    settings = _settings(args)
    registry = Registry(settings.data_dir)
    who = args.who or getpass.getuser()
    if args.action in ("use", "shadow") and not args.model:
        print(f"vigil model {args.action}: give the model (a directory, a hub id or 'default')", file=sys.stderr)
        return 2
    try:
        if args.action == "use":
            registry.select(who, active=args.model)
        elif args.action == "shadow":
            registry.select(who, shadow=args.model)
        elif args.action == "stop-shadow":
            registry.select(who, stop_shadow=True)
        elif args.action == "rollback":
            registry.rollback()
        selection = registry.read()
    except ValueError as exc:
        print(f"vigil model: {exc}", file=sys.stderr)
        return 1
    print(f"active: {selection.active}\nshadow: {selection.shadow or '-'}\nearlier selections: {len(selection.history)}")
    if settings.classifier.model != "active":
        print("note: classify workers follow this only with classifier.model: active "
              f"(now {settings.classifier.model!r})", file=sys.stderr)
    return 0


def cmd_thresholds(args) -> int:
    from classifiers.datasets import load
    from classifiers.evaluate import score
    from classifiers.thresholds import choose

    settings = _settings(args)
    classifier = _classifier(args, settings, thresholds=False)  # fit on the model's own scores (maybe a new model)
    examples = [e for spec in args.data for e in load(spec, Path(args.shared_data))]
    print(f"vigil thresholds: {classifier.version} on {len(examples)} examples", file=sys.stderr)
    try:
        chosen = choose(score(classifier, examples), classifier.version, precision=args.precision,
                        flags_per_day=args.flags_per_day, documents_per_day=args.documents_per_day,
                        per_language=args.per_language, min_support=args.min_support)
    except ValueError as exc:
        print(f"vigil thresholds: {exc}", file=sys.stderr)
        return 2
    chosen.write(Path(args.output))
    print(f"wrote {args.output}: {chosen.version} for {chosen.model_version}")
    for label, threshold in chosen.thresholds.items():
        expected = chosen.details["expected_on_data"][label]
        print(f"  {label}: threshold {threshold:.4f}, temperature {chosen.temperature[label]:.2f}; on this data "
              f"precision {expected['precision']}, recall {expected['recall']}, "
              f"{expected['flags_per_10k']:.0f} flags per 10,000 documents")
    for lang, by_label in chosen.by_language.items():
        print(f"  {lang}: " + ", ".join(f"{label} {t:.4f}" for label, t in by_label.items()))
    for note in chosen.details["notes"]:
        print(f"  note: {note}", file=sys.stderr)
    print("classify workers with classifier.thresholds_file set to it pick it up between batches")
    return 0


def cmd_demo(args) -> int:
    from streams.demo.run import demo

    return demo(_settings(args), serve=args.serve)


def _date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date or time: {text!r} (like 2026-11-28 or 2026-11-28T10:00)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vigil", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", help="YAML settings file (default: VIGIL_CONFIG or ./vigil.yaml)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name, handler, help_text):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    command("demo", cmd_demo, "Serve the bundled demo site on 127.0.0.1, run the whole pipeline over it, "
            "and show what was flagged.").add_argument(
        "--serve", action="store_true", help="keep the demo site up afterwards (Ctrl-C to stop)")

    run = command("run", cmd_run, "Run every stage: crawl the sources on their schedules, classify, index. "
                  "With --once: crawl each source once, drain the stages, print a summary, exit (scheduled jobs).")
    run.add_argument("--sources", help="sources file (default: crawler.sources_file)")
    run.add_argument("--source", action="append", help="only this source id (repeatable)")
    run.add_argument("--once", action="store_true", help="one pass, then exit")
    run.add_argument("--stages", default="crawl,classify,index",
                     help="which stages this process runs, comma-separated (default: all; e.g. crawl for a "
                          "scheduler-only container)")

    schedule = command("schedule", cmd_schedule, "Crawl each source on its cron schedule, in one long-running "
                       "process: runs of a source never overlap, missed runs are made up once, each run's stats "
                       "go to the crawl-stats topic and the log.")
    schedule.add_argument("--sources", help="sources file (default: crawler.sources_file)")
    schedule.add_argument("--max-parallel", type=int, default=2, help="sources crawled at once (default 2)")

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

    crawl = command("crawl", cmd_crawl, "Crawl sources once and publish raw documents (the crawl stage alone).")
    crawl.add_argument("--sources", help="sources file (default: crawler.sources_file)")
    crawl.add_argument("--source", action="append", help="source id (repeatable; default: every source)")
    crawl.add_argument("--job-dir", help="keep each crawl's queue here, so that one stopped with Ctrl-C (once) "
                       "resumes where it was when run again with the same directory (Scrapy's JOBDIR)")

    for name, handler, text in (
        ("classify", cmd_classify, "Run the classify stage: vigil.raw -> vigil.classified. Start several for "
                                   "more throughput; they share partitions as one consumer group."),
        ("index", cmd_index, "Run the index stage: vigil.classified -> Elasticsearch or the embedded store."),
    ):
        command(name, handler, text).add_argument("--once", action="store_true",
                                                  help="stop when the input topic is drained")

    search = command("search", cmd_search, "Search indexed documents (full text and filters).")
    search.add_argument("query", nargs="*", help="words that must all appear")
    search.add_argument("--label", help="only documents flagged with this label")
    search.add_argument("--flagged", action="store_true", help="only flagged documents")
    search.add_argument("--min-score", type=float, help="minimum score (of --label if given, else the highest)")
    search.add_argument("--source", help="source id")
    search.add_argument("--lang", help="language code, e.g. en, ru, ar")
    search.add_argument("--since", type=_date, help="fetched at or after (ISO date/time)")
    search.add_argument("--until", type=_date, help="fetched at or before (ISO date/time)")
    search.add_argument("--review-status", choices=REVIEW_STATUSES)
    search.add_argument("--limit", type=int, default=20, help="hits to show (default 20)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit")
    search.add_argument("--uncertain", action="store_true", help="unreviewed documents whose scores are closest "
                        "to a threshold first (review these to teach the model most)")

    review = command("review", cmd_review, "Record an analyst's decision on a document (kept with who and when; "
                     "published to the reviews topic for retraining).")
    review.add_argument("id", help="document id (from vigil search)")
    review.add_argument("--decision", required=True, choices=[decision.value for decision in Decision])
    review.add_argument("--reviewer", required=True, help="who decided")
    review.add_argument("--labels", help="corrected labels, comma-separated ('' for none)")
    review.add_argument("--note", default="", help="free-text note")

    dlq = command("dlq", cmd_dlq, "The dead-letter topic: `show` counts letters by stage and error and lists "
                  "the latest; `redrive` sends them back to the topics they came from, after a fix.")
    dlq.add_argument("action", choices=["show", "redrive"])
    dlq.add_argument("--stage", help="redrive only this stage's letters (crawl, classify, index)")
    dlq.add_argument("--latest", type=int, default=10, help="show: how many recent letters to list (default 10)")

    export = command("export-reviews", cmd_export_reviews, "Write reviewed documents as training data "
                     "(train.jsonl) and a frozen evaluation set (frozen-eval.jsonl, chosen by document id, never "
                     "trained on).")
    export.add_argument("--output", required=True, help="directory to write")
    export.add_argument("--frozen-share", type=float, default=0.2, help="share of documents frozen for evaluation")

    alerts = command("alerts", cmd_alerts, "List recent flag-rate alerts (a source or label whose flag rate jumped "
                     "above its baseline; thresholds in the alerts settings).")
    alerts.add_argument("--limit", type=int, default=20)
    alerts.add_argument("--json", action="store_true", help="one JSON object per alert")

    train = command("train", cmd_train, "Train a classifier head on a frozen Hugging Face encoder; writes a model "
                    "directory from_pretrained loads (or only the head). --default rebuilds the bundled model.")
    train.add_argument("--default", action="store_true", help="the bundled model's recipe (seed templates + "
                       "shared hard negatives), written to classifiers/default_model")
    train.add_argument("--shared-data", default="../shared/data", help="the public datasets (default ../shared/data)")
    train.add_argument("--data", nargs="+", help="JSON lines or CSV files with text and labels, or named sets "
                       "(stormfront:train, hatecheck, ...)")
    train.add_argument("--labels", help="label set, comma-separated (default: from the data)")
    train.add_argument("--base-model", help="encoder directory or hub id (default: all-MiniLM-L6-v2 from its package)")
    train.add_argument("--output", help="model directory to write")
    train.add_argument("--name", default="vigil-model", help="model name (version ids derive from it)")
    train.add_argument("--head-only", action="store_true", help="write only the trained head")
    train.add_argument("--train-layers", type=int, default=1, help="encoder layers to train from the top (default 1)")
    train.add_argument("--seed", type=int, default=13)
    train.add_argument("--augment-counter-speech", action="store_true", help="add negatives that quote or refer "
                       "to the positives inside a condemnation, and negated hostility (classifiers/augment.py)")
    train.add_argument("--exclude", nargs="+", help="evaluation files whose texts must not be trained on "
                       "(e.g. frozen-eval.jsonl from export-reviews)")

    predict = command("predict", cmd_predict, "Score JSON lines with `id` and `text` (file or stdin); write JSON "
                      "lines with `id`, `scores`, `labels`, `flagged` and `evidence` (window and sentence offsets).")
    predict.add_argument("--model", help="model directory or Hugging Face id (default: classifier.model)")
    predict.add_argument("--input", default="-", help="JSON lines file (default: stdin)")
    predict.add_argument("--output", default="-", help="where to write (default: stdout)")
    predict.add_argument("--batch", type=int, default=64, help="texts scored together (default 64)")

    evaluate = command("evaluate", cmd_evaluate, "Evaluate a model per label, language and hard-negative slice; "
                       "write a report (Markdown, HTML, JSON, PNG plots). With --baseline, fail (exit 1) when a "
                       "slice's false-positive rate rises by more than --margin: the release gate.")
    evaluate.add_argument("--model", help="model directory or Hugging Face id (default: classifier.model)")
    evaluate.add_argument("--data", nargs="+", required=True, help="files (JSON lines or CSV with text, labels, "
                          "lang, slice) or named sets: stormfront:test, hatecheck, mhc:ar, checks, ...")
    evaluate.add_argument("--report", required=True, help="directory for the report")
    evaluate.add_argument("--baseline", help="the model version to compare with (release gate)")
    evaluate.add_argument("--margin", type=float, default=0.02, help="largest allowed rise of a slice's "
                          "false-positive rate over the baseline (default 0.02)")
    evaluate.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for intervals")
    evaluate.add_argument("--min-support", type=int, default=30, help="fewest positives and negatives for a "
                          "language to count as validated (default 30)")
    evaluate.add_argument("--shared-data", default="../shared/data", help="where the named public sets live")

    model = command("model", cmd_model, "Switch the model classify workers use (with classifier.model: active), "
                    "run a candidate in shadow (scored and recorded, never flagging), roll back.")
    model.add_argument("action", choices=["status", "use", "shadow", "stop-shadow", "rollback"])
    model.add_argument("model", nargs="?", help="for use and shadow: a model directory, hub id or 'default'")
    model.add_argument("--who", help="recorded with the change (default: your user name)")

    thresholds = command("thresholds", cmd_thresholds, "Fit temperatures and pick per-label (and per-language) "
                         "thresholds on labelled data, for a target precision or a reviewer budget; writes the "
                         "versioned file classify workers reload without a restart.")
    thresholds.add_argument("--model", help="model directory or Hugging Face id (default: classifier.model)")
    thresholds.add_argument("--data", nargs="+", required=True, help="labelled files or named sets")
    goal = thresholds.add_mutually_exclusive_group(required=True)
    goal.add_argument("--precision", type=float, help="target precision, e.g. 0.9")
    goal.add_argument("--flags-per-day", type=float, help="reviewer budget (needs --documents-per-day)")
    thresholds.add_argument("--documents-per-day", type=float, help="documents the crawlers bring in a day")
    thresholds.add_argument("--per-language", action="store_true", help="thresholds per language with enough data")
    thresholds.add_argument("--min-support", type=int, default=30, help="positives and negatives a language needs")
    thresholds.add_argument("--output", required=True, help="the thresholds file to write")
    thresholds.add_argument("--shared-data", default="../shared/data", help="where the named public sets live")

    setup = command("setup", cmd_setup, "Create the topics; install or upgrade the Elasticsearch templates, lifecycle "
                    "policies and aliases; with --kibana, import the data view, saved searches and dashboard "
                    "(idempotent: run it again after an upgrade).")
    setup.add_argument("--kibana", metavar="URL", help="Kibana to import deploy/kibana/vigil.ndjson into "
                       "(default: kibana.url)")
    command("config", cmd_config, "Print every setting in effect, as YAML (secrets masked).")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ConfigError as exc:
        print(f"vigil: {exc}", file=sys.stderr)
        return 2
    except TransientError as exc:
        print(f"vigil: {exc}\nIs the server running and reachable? Check VIGIL_KAFKA_BOOTSTRAP / "
              "VIGIL_ELASTICSEARCH_URL (`vigil config` shows what is in effect).", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
