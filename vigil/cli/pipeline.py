"""Commands that run the pipeline or one stage of it, and set up and inspect its plumbing."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from classifiers.cpu import choose_runtime, cpu_features, onnx_available
from crawlers.schedule import Scheduler
from streams import dead_letters
from streams.config import settings_as_yaml
from streams.kibana import import_saved_objects
from streams.metrics import serve_metrics
from streams.reviews import publish_periodically
from streams.runner import StageRunner
from streams.stores import open_store
from streams.transports import open_transport
from vigil.cli.common import AddCommand, settings_of, sources_file_of, stop_on_signals
from vigil.demo.run import demo
from vigil.pipeline import (
    STAGES,
    classify_runner,
    crawl_sources,
    index_runner,
    publish_queued,
    run_forever,
    run_once,
    setup,
)


def cmd_demo(args) -> int:
    return demo(settings_of(args), serve=args.serve)


def cmd_run(args) -> int:
    settings = settings_of(args)
    sources_file = sources_file_of(args, settings)
    if args.once:
        print("\n".join(run_once(settings, sources_file, args.source or None).lines()))
        return 0
    stages = tuple(args.stages.split(","))
    unknown = set(stages) - set(STAGES)
    if unknown:
        print(f"vigil run: unknown stage {', '.join(sorted(unknown))} (stages: {', '.join(STAGES)})", file=sys.stderr)
        return 2
    print(json.dumps(run_forever(settings, sources_file, stop_on_signals(), stages), indent=2))
    return 0


def cmd_schedule(args) -> int:
    settings = settings_of(args)
    sources_file = sources_file_of(args, settings)
    scheduler = Scheduler(settings, sources_file, max_parallel=args.max_parallel)
    print(f"scheduling {len(scheduler.sources())} sources from {sources_file} (Ctrl-C to stop)", file=sys.stderr)
    scheduler.run(stop_on_signals())
    return 0


def cmd_crawl(args) -> int:
    settings = settings_of(args)
    stats = crawl_sources(settings, sources_file_of(args, settings), args.source or None,
                          job_dir=Path(args.job_dir) if args.job_dir else None)
    for source_id, source_stats in stats.items():
        print(f"{source_id}: {source_stats.get('response_received_count', 0)} pages, "
              f"{source_stats.get('vigil/published', 0)} documents published, "
              f"finish reason {source_stats.get('finish_reason')}")
    return 0


def _run_stage(args, settings, runner: StageRunner) -> int:
    serve_metrics(settings.metrics, [runner])
    stats = runner.run(until_drained=args.once)
    print(json.dumps({runner.stage.name: dict(stats)}, indent=2))
    return 0


def cmd_classify(args) -> int:
    settings = settings_of(args)
    with open_transport(settings) as transport:
        transport.ensure_topics([settings.topics.raw, settings.topics.classified, settings.topics.dlq])
        return _run_stage(args, settings, classify_runner(settings, transport, stop_on_signals()))


def cmd_index(args) -> int:
    settings = settings_of(args)
    with open_transport(settings) as transport, open_store(settings) as store:
        transport.ensure_topics([settings.topics.classified, settings.topics.dlq])
        store.setup()
        stop = stop_on_signals()
        publisher = None if args.once else publish_periodically(settings, stop)  # decisions queued in the store
        try:
            return _run_stage(args, settings, index_runner(settings, transport, store, stop))
        finally:
            stop.set()
            if publisher is not None:
                publisher.join()
            else:
                publish_queued(settings, store)


def cmd_setup(args) -> int:
    settings = settings_of(args)
    with open_transport(settings) as transport, open_store(settings) as store:
        setup(settings, transport, store)
        print(f"topics ready on {transport.name}; store ready on {store.name}"
              + (f" (alias {settings.elasticsearch.alias})" if settings.elasticsearch.url else ""))
    kibana_url = args.kibana or settings.kibana.url
    if kibana_url:
        answer = import_saved_objects(settings, kibana_url)
        print(f"Kibana at {kibana_url}: {answer['successCount']} saved objects imported (data view "
              f"'{settings.elasticsearch.alias}', 6 saved searches, the 'Vigil: what is being flagged' dashboard)")
    return 0


def cmd_dlq(args) -> int:
    settings = settings_of(args)
    with open_transport(settings) as transport:
        transport.ensure_topics([settings.topics.dlq])
        if args.action == "show":
            print("\n".join(dead_letters.inspect(settings, transport, args.latest, stop_on_signals()).lines()))
            return 0
        counts = dead_letters.redrive(settings, transport, args.stage, stop_on_signals())
    print(json.dumps(dict(counts), indent=2))
    if counts["left_for_next_run"]:
        print("some messages failed again while re-driving: is the fix deployed? Run again once it is.",
              file=sys.stderr)
    return 0


def cmd_config(args) -> int:
    settings = settings_of(args)
    print(settings_as_yaml(settings), end="")
    features = cpu_features(ask_torch=False)
    choice = choose_runtime(features, onnx_available())
    classifier = settings.classifier
    in_effect = (f"auto -> {choice}" if classifier.runtime == "auto" else
                 f"{classifier.runtime} {'int8' if classifier.quantize == 'int8' else 'fp32'} as configured; "
                 f"classifier.runtime: auto would choose {choice}")
    print(f"# cpu: {features.describe()}\n# classifier runtime: {in_effect}")
    return 0


def register(command: AddCommand) -> None:
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

    dlq = command("dlq", cmd_dlq, "The dead-letter topic: `show` counts letters by stage and error and lists "
                  "the latest; `redrive` sends them back to the topics they came from, after a fix.")
    dlq.add_argument("action", choices=["show", "redrive"])
    dlq.add_argument("--stage", choices=STAGES, help="redrive only this stage's letters")
    dlq.add_argument("--latest", type=int, default=10, help="show: how many recent letters to list (default 10)")

    setup = command("setup", cmd_setup, "Create the topics; install or upgrade the Elasticsearch templates, lifecycle "
                    "policies and aliases; with --kibana, import the data view, saved searches and dashboard "
                    "(idempotent: run it again after an upgrade).")
    setup.add_argument("--kibana", metavar="URL", help="Kibana to import deploy/kibana/vigil.ndjson into "
                       "(default: kibana.url)")
    command("config", cmd_config, "Print every setting in effect, as YAML (secrets masked).")
