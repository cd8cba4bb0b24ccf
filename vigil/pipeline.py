"""Wiring the stages together: crawl, classify, index, once (scheduled jobs) or continuously."""
from __future__ import annotations

import logging
import multiprocessing
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from classifiers.selection import ACTIVE, SelectionFile
from crawlers.process import start_crawl
from crawlers.schedule import Scheduler
from crawlers.sources import load_sources
from streams.alerts import FlagRateMonitor
from streams.config import ConfigError, VigilSettings
from streams.index_stage import IndexStage
from streams.metrics import serve_metrics
from streams.reviews import publish_pending, publish_periodically
from streams.runner import StageRunner
from streams.stores import Store, open_store
from streams.transports import Transport, open_transport

if TYPE_CHECKING:
    from classifiers.stage import ClassifyStage

log = logging.getLogger(__name__)


def all_topics(settings: VigilSettings) -> list[str]:
    t = settings.topics
    return [t.raw, t.classified, t.reviews, t.dlq, t.crawl_stats]


def publish_queued(settings: VigilSettings, store: Store) -> None:
    """Send the review decisions queued while the reviews topic was unreachable; an outage leaves them queued."""
    try:
        publish_pending(store, settings)
    except Exception as exc:
        log.warning("queued review decisions not published (`vigil reviews publish` sends them): %s", exc)


def setup(settings: VigilSettings, transport: Transport, store: Store) -> None:
    """Topics with their partitions, the index template and alias (both idempotent)."""
    transport.ensure_topics(all_topics(settings))
    store.setup()


def classify_runner(settings: VigilSettings, transport: Transport,
                    stop: threading.Event | None = None) -> StageRunner[ClassifyStage]:
    # Here, not at the top: torch (4 s, 260 MB) loads only in processes that classify, so the indexer, the
    # scheduler and crawl jobs stay small (their Kubernetes requests are 512 MiB).
    from classifiers.loading import load_classifier
    from classifiers.stage import ClassifyStage
    from streams.hashlists.live import LiveHashIndex

    selection_file = SelectionFile(settings.data_dir) if settings.classifier.model == ACTIVE else None
    selection = selection_file.read() if selection_file else None
    active = selection.active if selection else settings.classifier.model
    shadow = selection.shadow if selection else settings.classifier.shadow_model
    stage = ClassifyStage(
        load_classifier(settings, active), settings.topics.raw, settings.topics.classified,
        shadow=load_classifier(settings, shadow, thresholds=False) if shadow else None, selection_file=selection_file,
        load=lambda reference, **options: load_classifier(settings, reference, strict=False, **options),
        cache_size=settings.classifier.cache_size,
        known=LiveHashIndex(open_store(settings), settings.hashlists) if settings.hashlists.enabled else None)
    return StageRunner(stage, transport.consumer([stage.input_topic], f"{settings.stage.group_prefix}-classify"),
                       transport.producer(), settings.topics.dlq, settings.stage, stop)


def index_runner(settings: VigilSettings, transport: Transport, store: Store,
                 stop: threading.Event | None = None) -> StageRunner[IndexStage]:
    monitor = FlagRateMonitor(settings.alerts) if settings.alerts.enabled else None
    stage = IndexStage(store, settings.topics.classified, monitor)
    return StageRunner(stage, transport.consumer([stage.input_topic], f"{settings.stage.group_prefix}-index"),
                       transport.producer(), settings.topics.dlq, settings.stage, stop)


def crawl_sources(settings: VigilSettings, sources_file: Path, source_ids: list[str] | None = None,
                  scrapy_overrides: dict | None = None, job_dir: Path | None = None) -> dict[str, dict]:
    """Crawl sources in a child process (Twisted's reactor runs once per process); Scrapy stats per source."""
    known = load_sources(sources_file)
    unknown = set(source_ids or []) - set(known)
    if unknown:
        raise ConfigError(f"no source {', '.join(sorted(unknown))} in {sources_file} "
                          f"(known: {', '.join(sorted(known))})")
    results = multiprocessing.get_context("spawn").Queue()
    process = start_crawl(settings, [known[i] for i in (source_ids or known)], sources_file,
                          scrapy_overrides=scrapy_overrides, job_dir=job_dir, results=results)
    stats = results.get() if _wait_for_result(process, results) else {}
    process.join()
    if process.exitcode:
        raise RuntimeError(f"the crawl process failed (exit code {process.exitcode}); see the log above")
    return stats


def _wait_for_result(process, results) -> bool:
    while process.is_alive() and results.empty():
        time.sleep(0.1)
    return not results.empty()


@dataclass
class Summary:
    sources: int = 0
    pages: int = 0
    documents: int = 0
    refused: int = 0
    classified: int = 0
    flagged: int = 0
    indexed: int = 0
    dead_lettered: int = 0
    done_after_s: dict[str, float] = field(default_factory=dict)  # when each stage finished, from the start
    fetch_to_searchable_s: dict[str, float] = field(default_factory=dict)

    @property
    def total_s(self) -> float:
        return max(self.done_after_s.values(), default=0.0)

    def lines(self) -> list[str]:
        latency = self.fetch_to_searchable_s
        return [
            f"sources crawled      {self.sources}",
            f"pages fetched        {self.pages} ({self.refused} refused by safety checks)",
            f"documents published  {self.documents}",
            f"classified           {self.classified} ({self.flagged} flagged)",
            f"indexed              {self.indexed}",
            f"dead-lettered        {self.dead_lettered}",
            "stages done after    " + ", ".join(f"{k} {v:.1f}s" for k, v in self.done_after_s.items())
            + f" ({self.documents / max(self.total_s, 1e-9):.1f} documents/s end to end)",
            f"fetch to searchable  median {latency.get('median', 0):.1f}s, max {latency.get('max', 0):.1f}s",
        ]


def run_once(settings: VigilSettings, sources_file: Path, source_ids: list[str] | None = None,
             scrapy_overrides: dict | None = None, progress=print) -> Summary:
    """The scheduled-job mode: crawl each source once while classify and index run alongside,
    then let each stage drain what the one before it produced, and summarise."""
    transport, store = open_transport(settings), open_store(settings)
    summary = Summary()
    try:
        setup(settings, transport, store)
        crawled, classified, stop = threading.Event(), threading.Event(), threading.Event()
        classify = classify_runner(settings, transport, stop)
        index = index_runner(settings, transport, store, stop)
        started = time.monotonic()
        failures: list[BaseException] = []

        def run_stage(runner: StageRunner, upstream: threading.Event, done: threading.Event | None):
            try:
                runner.run(until_drained=True, upstream_done=upstream)
            except BaseException as exc:  # surfaced in the caller's thread below
                failures.append(exc)
                stop.set()
            finally:
                summary.done_after_s[runner.stage.name] = time.monotonic() - started
                if done is not None:
                    done.set()
        workers = [threading.Thread(target=run_stage, args=(classify, crawled, classified), name="classify"),
                   threading.Thread(target=run_stage, args=(index, classified, None), name="index")]
        for worker in workers:
            worker.start()
        progress(f"crawling {sources_file} (classify and index run alongside) ...")
        classifier = classify.stage.classifier
        all_threads = classifier.threads
        if settings.classifier.threads is None:  # leave a core to the crawler process while it runs
            classifier.threads = max(1, all_threads - 1)
        try:
            stats = crawl_sources(settings, sources_file, source_ids, scrapy_overrides)
        except BaseException:
            stop.set()
            raise
        finally:
            summary.done_after_s["crawl"] = time.monotonic() - started
            classifier.threads = all_threads
            crawled.set()
            for worker in workers:
                worker.join()
        if failures:
            raise failures[0]
        summary.done_after_s = {k: summary.done_after_s[k] for k in ("crawl", "classify", "index")}
        summary.sources = len(stats)
        for crawl_stats in stats.values():
            summary.pages += crawl_stats.get("response_received_count", 0)
            summary.documents += crawl_stats.get("vigil/published", 0)
            summary.refused += sum(v for k, v in crawl_stats.items() if k.startswith("vigil/refused/"))
        store.refresh()
        summary.classified = classify.stats["processed"]
        summary.indexed, summary.flagged = index.stats["indexed"], index.stats["flagged"]
        summary.dead_lettered = classify.stats["dead_lettered"] + index.stats["dead_lettered"]
        latencies = index.stage.fetch_to_indexed_s
        if latencies:
            summary.fetch_to_searchable_s = {"median": statistics.median(latencies), "max": max(latencies)}
        progress(f"  {summary.documents} documents, {summary.classified} classified, {summary.indexed} indexed")
        publish_queued(settings, store)
    finally:
        store.close()
        transport.close()
    return summary


STAGES = ("crawl", "classify", "index")


def run_forever(settings: VigilSettings, sources_file: Path, stop: threading.Event,
                stages: tuple[str, ...] = STAGES, scrapy_overrides: dict | None = None) -> Counter:
    """Classify and index continuously in threads; crawl each source on its cron schedule."""
    transport, store = open_transport(settings), open_store(settings)
    setup(settings, transport, store)
    runners: list[StageRunner] = []
    if "classify" in stages:
        runners.append(classify_runner(settings, transport, stop))
    if "index" in stages:
        runners.append(index_runner(settings, transport, store, stop))
    serve_metrics(settings.metrics, runners)
    threads = [threading.Thread(target=r.run, name=r.stage.name, daemon=True) for r in runners]
    for thread in threads:
        thread.start()
    if "index" in stages:  # the process that writes the store also sends the decisions queued in it
        threads.append(publish_periodically(settings, stop))
    scheduler = Scheduler(settings, Path(sources_file), scrapy_overrides=scrapy_overrides or {}) \
        if "crawl" in stages else None
    try:
        while not stop.is_set():
            if scheduler is not None:
                scheduler.tick()
            stop.wait(1.0)
    finally:
        stop.set()
        if scheduler is not None:
            scheduler.stop_all()
        for thread in threads:
            thread.join()
        store.close()
        transport.close()
    totals: Counter[str] = Counter()
    for runner in runners:
        totals.update({f"{runner.stage.name}.{k}": v for k, v in runner.stats.items()})
    return totals
