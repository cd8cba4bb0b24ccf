"""Crawling each source on its cron schedule, in one long-running process.

Each run of a source is a child process (Twisted's reactor runs once per process), so a long crawl
never holds the others up; at most `max_parallel` run at once. A source is never crawled twice at the
same time. Runs missed while the scheduler was down, or while the previous run was still going, are
coalesced into one run as soon as possible, not replayed one by one. When each source last started
and finished is kept in data_dir/schedule.json, so a restart does not crawl everything again.
Each run's figures go to the crawl-stats topic and the log (crawlers/extensions.py).
"""
from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from multiprocessing.process import BaseProcess
from pathlib import Path

from croniter import croniter

from crawlers.process import start_crawl
from crawlers.sources import Source, load_sources
from streams.config import VigilSettings
from streams.files import write_atomically

log = logging.getLogger(__name__)


def previous_time(schedule: str, now: float) -> float:
    return croniter(schedule, datetime.fromtimestamp(now, timezone.utc)).get_prev(float)


@dataclass
class Scheduler:
    settings: VigilSettings
    sources_file: Path
    max_parallel: int = 2
    scrapy_overrides: dict = field(default_factory=dict)
    clock: callable = time.time

    def __post_init__(self):
        self.path = Path(self.settings.data_dir) / "schedule.json"
        self.history: dict[str, dict] = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.running: dict[str, BaseProcess] = {}

    def sources(self) -> dict[str, Source]:
        return load_sources(self.sources_file)  # re-read every tick: edits apply without a restart

    def due(self, sources: dict[str, Source], now: float) -> list[str]:
        """Sources whose latest scheduled time passed after their last start and that are not running."""
        return [source_id for source_id, source in sorted(sources.items())
                if source_id not in self.running
                and self.history.get(source_id, {}).get("started", 0.0) < previous_time(source.schedule, now)]

    def _save(self) -> None:
        write_atomically(self.path, json.dumps(self.history, indent=2))

    def start(self, source: Source) -> None:
        self.running[source.id] = start_crawl(self.settings, [source], self.sources_file,
                                              scrapy_overrides=self.scrapy_overrides, name=f"crawl-{source.id}")
        self.history[source.id] = {**self.history.get(source.id, {}), "started": self.clock()}
        self._save()
        log.info("crawling %s (%s)", source.id, source.kind)

    def reap(self) -> list[str]:
        """Finished runs: recorded, and their slots freed."""
        done = [source_id for source_id, process in self.running.items() if not process.is_alive()]
        for source_id in done:
            process = self.running.pop(source_id)
            process.join()
            self.history[source_id].update(finished=self.clock(), exit_code=process.exitcode)
            if process.exitcode:
                log.error("the crawl of %s failed (exit code %s); it runs again at its next time",
                          source_id, process.exitcode)
        if done:
            self._save()
        return done

    def tick(self) -> None:
        self.reap()
        sources = self.sources()
        for source_id in self.due(sources, self.clock()):
            if len(self.running) >= self.max_parallel:
                break  # the rest start as slots free up
            self.start(sources[source_id])

    def stop_all(self) -> None:
        """SIGTERM to the crawls in hand (each stops at once: nothing more is sent, transfers under way finish
        within the download timeout; crawlers/process.py), then record them."""
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            process.join(timeout=60)
        self.reap()

    def run(self, stop: threading.Event, poll_s: float = 1.0) -> None:
        try:
            while not stop.is_set():
                self.tick()
                stop.wait(poll_s)
        finally:
            self.stop_all()
