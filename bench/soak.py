"""Soak: the classify and index stages (`vigil classify`, `vigil index`, the default model) at a steady load
for a long run, on the embedded defaults and on the test servers (tansu + osmem-server) side by side.

A publisher sends raw documents at a fixed rate, with a poison message each minute; the stages run as
users run them. Every 10 s it samples each stage's RSS and consumer lag, and when each document became
searchable. At the end it drains, then reports per backend: the RSS slope per stage after warm-up (MB per
hour), the largest consumer lag, fetch-to-searchable p50/p95/p99 (to the 0.5 s polling step), and
documents lost or duplicated and poisons dead-lettered (must be 0, 0 and all). The baseline, measured in
the same run, is the first quarter after warm-up: the last quarter's RSS and p99 are given as ratios to it.
Plots go to reports/soak/.
Usage: python bench/soak.py [--minutes 20] [--rate 4] [--backends embedded,servers]
(VIGIL_CLASSIFIER_* settings in the environment apply to the classify stage, e.g. VIGIL_CLASSIFIER_RUNTIME=auto.)
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.default import ensure_default_model  # noqa: E402
from streams import dead_letters  # noqa: E402
from streams.config import load_settings  # noqa: E402
from streams.transports import open_transport  # noqa: E402
from tests.factories import raw_document  # noqa: E402
from tests.servers import free_port, osmem_server, tansu_broker  # noqa: E402

VIGIL = [sys.executable, "-m", "vigil"]
STAGES = ("classify", "index")
SAMPLE_S = 10.0
PARAGRAPH = ("The regional council met on Tuesday to discuss the new bus routes, the school budget and "
             "the repairs to the river bridge. Residents asked about parking near the market. ")


@dataclass
class Backend:
    name: str
    env: dict
    settings: object = None
    transport: object = None
    stages: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)
    published: dict = field(default_factory=dict)  # id -> time published
    searchable: dict = field(default_factory=dict)  # id -> time first seen in the store
    copies: dict = field(default_factory=dict)  # id -> copies in the store, at the end
    poisons: int = 0
    samples: list = field(default_factory=list)  # (t, stage, rss MB, lag)

    def start(self, work: Path) -> None:
        self.settings = load_settings(environ=self.env)
        self.transport = open_transport(self.settings)
        topics = self.settings.topics
        self.transport.ensure_topics([topics.raw, topics.classified, topics.dlq])
        for stage in STAGES:
            self.ports[stage] = free_port()
            log = open(work / f"{self.name}-{stage}.log", "w")
            self.stages[stage] = subprocess.Popen([*VIGIL, stage], cwd=work, stdout=log, stderr=log,
                                                  env={**self.env, "VIGIL_METRICS_PORT": str(self.ports[stage])})

    def publish(self, producer, n: int) -> None:
        doc = raw_document(f"https://soak.example/{self.name}/{n}", f"{PARAGRAPH * 3} Item {n}.")
        doc = doc.model_copy(update={"fetched_at": datetime.now(timezone.utc)})
        producer.send(self.settings.topics.raw, doc.to_bytes(), key=doc.id.encode())
        producer.flush()
        self.published[doc.id] = time.monotonic()

    def poison(self, producer) -> None:
        producer.send(self.settings.topics.raw, b'{"schema": "vigil.raw/1", "soak": "poison"}')
        producer.flush()
        self.poisons += 1

    def store_ids(self) -> list[str]:
        """Every document id in the store, one entry per stored copy."""
        if self.settings.elasticsearch.url:
            body = json.dumps({"size": 10_000, "_source": False, "query": {"match_all": {}}}).encode()
            request = urllib.request.Request(f"{self.settings.elasticsearch.url}/{self.settings.elasticsearch.alias}"
                                             "/_search", body, {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return [hit["_id"] for hit in json.load(response)["hits"]["hits"]]
            except OSError:
                return []
        path = self.settings.data_dir / "store.sqlite"
        try:
            with sqlite3.connect(path, timeout=30) as conn:
                return [row[0] for row in conn.execute("SELECT id FROM documents")]
        except sqlite3.OperationalError:
            return []

    def watch_store(self) -> None:
        now = time.monotonic()
        for doc_id in self.store_ids():
            self.searchable.setdefault(doc_id, now)

    def sample(self, t: float) -> None:
        for stage, proc in self.stages.items():
            self.samples.append((t, stage, rss_mb(proc.pid), lag(self.ports[stage])))

    def stop(self) -> dict:
        for proc in self.stages.values():
            proc.send_signal(signal.SIGTERM)
        codes = {stage: proc.wait(timeout=120) for stage, proc in self.stages.items()}
        self.transport.close()
        return codes


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024


def lag(port: int) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return None
    match = re.search(r"vigil_stage_consumer_lag\{[^}]*\} ([0-9.e+]+)", text)
    return float(match.group(1)) if match else None


def slope_mb_per_hour(points: list[tuple[float, float]]) -> float:
    if len(points) < 2:
        return float("nan")
    return statistics.linear_regression([t for t, _ in points], [m for _, m in points]).slope * 3600


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(backend: Backend, started: float, ended: float, codes: dict, out: Path, warm_up_s: float) -> list[str]:
    lost = set(backend.published) - set(backend.copies)
    duplicated = {doc_id for doc_id, n in backend.copies.items() if n > 1}
    letters = dead_letters.inspect(backend.settings, open_transport(backend.settings))
    dead = sum(letters.by_stage_and_error.values())
    latency = {doc_id: backend.searchable[doc_id] - t for doc_id, t in backend.published.items()
               if doc_id in backend.searchable}
    span = ended - started - warm_up_s
    first = (started + warm_up_s, started + warm_up_s + span / 4)
    last = (ended - span / 4, ended)

    def in_window(window, t):
        return window[0] <= t < window[1]

    lines = [f"== {backend.name}: {len(backend.published)} documents, {backend.poisons} poisons in "
             f"{(ended - started) / 60:.1f} min"]
    for stage in STAGES:
        points = [(t, rss) for t, s, rss, _ in backend.samples if s == stage and t - started >= warm_up_s]
        early = [rss for t, rss in points if in_window(first, t)]
        late = [rss for t, rss in points if in_window(last, t)]
        lags = [lag for _, s, _, lag in backend.samples if s == stage and lag is not None]
        lines.append(f"  {stage:8s} RSS {statistics.mean(late or [float('nan')]):7.1f} MB at the end, slope "
                     f"{slope_mb_per_hour(points):+7.1f} MB/h after warm-up, ratio last/first quarter "
                     f"{statistics.mean(late or [1]) / statistics.mean(early or [1]):.3f}; "
                     f"consumer lag max {max(lags, default=float('nan')):.0f}")
    early_p99 = percentile([v for i, v in latency.items() if in_window(first, backend.published[i])], 0.99)
    late_p99 = percentile([v for i, v in latency.items() if in_window(last, backend.published[i])], 0.99)
    values = list(latency.values())
    lines.append(f"  fetch to searchable p50 {percentile(values, 0.5):.1f}s p95 {percentile(values, 0.95):.1f}s "
                 f"p99 {percentile(values, 0.99):.1f}s; p99 ratio last/first quarter {late_p99 / early_p99:.2f}")
    lines.append(f"  lost {len(lost)}, duplicated {len(duplicated)}, poisons dead-lettered {dead}/{backend.poisons}"
                 f" (+{letters.duplicates} repeated letters); stage exits {codes}")
    plot(backend, started, out)
    return lines


def plot(backend: Backend, started: float, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (rss_axis, lag_axis) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    for stage in STAGES:
        points = [(t - started, rss, lag) for t, s, rss, lag in backend.samples if s == stage]
        rss_axis.plot([p[0] / 60 for p in points], [p[1] for p in points], label=stage)
        lag_axis.plot([p[0] / 60 for p in points], [p[2] or 0 for p in points], label=stage)
    rss_axis.set_ylabel("RSS (MB)")
    lag_axis.set_ylabel("consumer lag")
    lag_axis.set_xlabel("minutes")
    rss_axis.legend()
    rss_axis.set_title(f"soak on {backend.name}")
    fig.savefig(out / f"{backend.name}.png", dpi=100)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--rate", type=float, default=4.0, help="documents per second, per backend")
    parser.add_argument("--backends", default="embedded,servers")
    parser.add_argument("--warm-up", type=float, default=120.0, help="seconds left out of the slopes")
    parser.add_argument("--report", type=Path, default=Path("reports/soak"))
    args = parser.parse_args()
    args.report.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="vigil-soak-"))
    model = ensure_default_model(work / "models")
    # The caller's classifier settings pass through (VIGIL_CLASSIFIER_RUNTIME=auto soaks the variant auto picks).
    base = {**{k: v for k, v in os.environ.items() if not k.startswith("VIGIL_") or k.startswith("VIGIL_CLASSIFIER_")},
            "VIGIL_CLASSIFIER_MODEL": str(model), "VIGIL_CLASSIFIER_THREADS": "1", "VIGIL_ALERTS_ENABLED": "false"}
    with ExitStack() as stack:
        backends = []
        for name in args.backends.split(","):
            env = {**base, "VIGIL_DATA_DIR": str(work / name)}
            if name == "servers":
                env |= {"VIGIL_KAFKA_BOOTSTRAP": stack.enter_context(tansu_broker()),
                        "VIGIL_KAFKA_SESSION_TIMEOUT_MS": "6000", "VIGIL_KAFKA_HEARTBEAT_INTERVAL_MS": "1000",
                        "VIGIL_ELASTICSEARCH_URL": stack.enter_context(osmem_server()),
                        "VIGIL_ELASTICSEARCH_PLAIN_JSON": "true"}
            backends.append(Backend(name, env))
        for backend in backends:
            backend.start(work)
        producers = [backend.transport.producer() for backend in backends]
        stop = threading.Event()

        def watch():
            while not stop.wait(0.5):
                for backend in backends:
                    backend.watch_store()
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()

        started = time.monotonic()
        end = started + args.minutes * 60
        n, next_sample, next_poison = 0, started, started + 60
        while (now := time.monotonic()) < end:
            for backend, producer in zip(backends, producers):
                backend.publish(producer, n)
                if now >= next_poison:
                    backend.poison(producer)
            next_poison += 60 if now >= next_poison else 0
            if now >= next_sample:
                for backend in backends:
                    backend.sample(now)
                next_sample += SAMPLE_S
                done = (now - started) / (end - started)
                print(f"\r[{'#' * int(done * 30):30s}] {done:4.0%} {n + 1} documents per backend", end="",
                      flush=True)
            n += 1
            time.sleep(max(0.0, started + n / args.rate - time.monotonic()))
        ended = time.monotonic()
        print("\ndraining ...")
        deadline = ended + 300
        while time.monotonic() < deadline and any(set(b.published) - set(b.searchable) for b in backends):
            time.sleep(1)
        stop.set()
        watcher.join()
        for backend in backends:
            backend.copies = {}
            for doc_id in backend.store_ids():
                backend.copies[doc_id] = backend.copies.get(doc_id, 0) + 1
        lines = []
        for backend, producer in zip(backends, producers):
            producer.close()
            codes = backend.stop()
            lines += report(backend, started, ended, codes, args.report, args.warm_up)
    text = "\n".join(lines)
    print(text)
    (args.report / "report.txt").write_text(text + "\n")
    print(f"plots and report in {args.report}/")


if __name__ == "__main__":
    main()
