"""Scale-out of the classify stage on the Kafka-protocol test server (tansu): 1, 2 and 3 workers in one
consumer group over a 6-partition topic, each worker a `vigil classify` process with one torch thread,
with the default model. Prints documents per second and the ratio to one worker measured in the same
run, then kills one of two workers (-9) halfway and reports what the survivor took over and that no
document was lost. On a 2-core machine two workers fill the cores, so a third adds no speed here;
on a real cluster each worker gets its own cores.
Usage: python bench/scaleout.py [DOCUMENTS]
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from classifiers.default import ensure_default_model  # noqa: E402
from streams.config import load_settings  # noqa: E402
from streams.schemas import ClassifiedDocument  # noqa: E402
from streams.transports import open_transport  # noqa: E402
from tests.factories import raw_document  # noqa: E402
from tests.servers import free_port, tansu_broker  # noqa: E402
from vigil.demo.site import DemoSite  # noqa: E402


def scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            return response.read().decode()
    except OSError:
        return ""


def processed(port: int) -> float:
    match = re.search(r'outcome="processed",stage="classify"\} ([0-9.e+]+)', scrape(port))
    return float(match.group(1)) if match else 0.0


def assigned(port: int) -> bool:
    return "vigil_stage_consumer_lag{" in scrape(port)


class Run:
    """Fresh topics, N workers started and assigned partitions before any document is published."""

    def __init__(self, work: Path, bootstrap: str, model: Path, workers: int, threads: int = 1):
        name = f"bench{uuid.uuid4().hex[:8]}"
        self.env = {**os.environ, "VIGIL_DATA_DIR": str(work / "data"), "VIGIL_KAFKA_BOOTSTRAP": bootstrap,
                    "VIGIL_KAFKA_SESSION_TIMEOUT_MS": "2000", "VIGIL_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
                    "VIGIL_TOPICS_RAW": f"{name}.raw", "VIGIL_TOPICS_CLASSIFIED": f"{name}.classified",
                    "VIGIL_TOPICS_DLQ": f"{name}.dlq", "VIGIL_TOPICS_PARTITIONS": "6",
                    "VIGIL_CLASSIFIER_MODEL": str(model), "VIGIL_CLASSIFIER_THREADS": str(threads),
                    "VIGIL_STAGE_GROUP_PREFIX": name, "VIGIL_ALERTS_ENABLED": "false", "VIGIL_LOG_LEVEL": "WARNING"}
        self.settings = load_settings(environ=self.env)
        self.transport = open_transport(self.settings)
        t = self.settings.topics
        self.transport.ensure_topics([t.raw, t.classified, t.dlq])
        self.ports = [free_port() for _ in range(workers)]
        self.workers = [subprocess.Popen([sys.executable, "-m", "vigil", "classify"], cwd=work,
                                         env={**self.env, "VIGIL_METRICS_PORT": str(port)},
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                        for port in self.ports]
        deadline = time.monotonic() + 180
        while not all(assigned(port) for port in self.ports):
            if time.monotonic() > deadline or any(w.poll() is not None for w in self.workers):
                raise RuntimeError("workers did not start: " + "".join(w.stderr.read()[-1000:] for w in self.workers
                                                                        if w.poll() is not None))
            time.sleep(0.2)
        time.sleep(2.5)  # the last joiner's rebalance settles (tansu answers joins after half the session)

    def publish(self, texts: list[str]) -> set[str]:
        producer = self.transport.producer()
        ids = set()
        for i, text in enumerate(texts):
            doc = raw_document(f"https://bench.example/{i}", f"{text}\n{i}")
            ids.add(doc.id)
            producer.send(self.settings.topics.raw, doc.to_bytes(), key=doc.id.encode())
        producer.close()
        return ids

    def wait_for(self, count: int, ports=None) -> None:
        while sum(processed(port) for port in ports or self.ports) < count:
            time.sleep(0.1)

    def classified_ids(self) -> set[str]:
        consumer = self.transport.consumer([self.settings.topics.classified], f"count{uuid.uuid4().hex[:6]}")
        ids, empty = set(), 0
        while empty < 4:
            records = consumer.poll(5000, 0.5)
            empty = 0 if records else empty + 1
            ids |= {ClassifiedDocument.from_bytes(r.value).document.id for r in records}
        consumer.close()
        return ids

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(timeout=60)


def main(documents: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="vigil-scaleout-"))
    model = ensure_default_model(work / "models")
    with DemoSite() as site:
        pages = ["\n".join(page.body) for page in site.pages]
    texts = [pages[i % len(pages)] for i in range(documents)]
    with tansu_broker() as bootstrap:
        rates = {}
        for workers, threads in ((1, 1), (2, 1), (3, 1), (1, 2)):
            run = Run(work, bootstrap, model, workers, threads)
            try:
                started = time.perf_counter()
                run.publish(texts)
                run.wait_for(documents)
                elapsed = time.perf_counter() - started
            finally:
                run.stop()
            rate = documents / elapsed
            rates[(workers, threads)] = rate
            baseline = rates[(1, 1)]
            label = f"{workers} worker{'s' if workers > 1 else ''} x {threads} thread{'s' if threads > 1 else ''}"
            print(f"{label}: {documents} documents in {elapsed:.1f}s = {rate:.1f} documents/s "
                  f"(ratio to 1 worker x 1 thread: {rate / baseline:.2f})", flush=True)

        run = Run(work, bootstrap, model, 2)
        try:
            ids = run.publish(texts)
            started = time.perf_counter()
            run.wait_for(documents // 2)
            victim, survivor = run.workers[0], run.ports[1]
            done_by_victim = processed(run.ports[0])
            victim.send_signal(signal.SIGKILL)
            killed_at = time.perf_counter()
            before = processed(survivor)
            while processed(survivor) < documents - done_by_victim:
                time.sleep(0.1)
            finished = time.perf_counter()
            survivor_total = processed(survivor)
            missing = ids - run.classified_ids()
        finally:
            run.stop()
        print(f"failover: killed 1 of 2 workers (-9) after {killed_at - started:.1f}s, when it had done "
              f"{done_by_victim:.0f} documents; the survivor took its partitions over and went from {before:.0f} to "
              f"{survivor_total:.0f} documents, finishing {finished - killed_at:.1f}s after the kill; documents lost: "
              f"{len(missing)} of {len(ids)}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1200)
