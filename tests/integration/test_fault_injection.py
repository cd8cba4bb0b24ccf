"""Fault injection on both backends, with the stages as users run them (`vigil classify`, `vigil index`):
kill -9 of either stage at random points, an index outage, a broker outage and every poison, during a run
of 1,000 documents published in waves. Afterwards every document is indexed exactly once, each poison is in
the dead-letter topic once with its reason, and no stage exited on its own (issue 9)."""
from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import ExitStack, contextmanager

import pytest
from kafka import KafkaProducer

from streams import dead_letters
from streams.config import load_settings
from streams.transports import open_transport
from tests.conftest import FAST_GROUP, unique
from tests.factories import classified, raw_document
from tests.servers import osmem_process, tansu_process
from tests.unit.tiny_model import build_tiny_model

pytestmark = pytest.mark.integration
VIGIL = [sys.executable, "-m", "vigil"]
DOCUMENTS = 1_000
SEED = int(os.environ.get("VIGIL_FAULT_SEED", "9"))  # another seed gives other kill points
OUTAGE_S = 4.0


class Pipeline:
    """The classify and index stages as child processes over one backend, and the faults done to them."""

    def __init__(self, tmp_path, backend: str, stack: ExitStack):
        run = unique("fault")
        self.backend = backend
        self.env = {**{k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")},
                    "VIGIL_DATA_DIR": str(tmp_path / "data"), "VIGIL_TOPICS_RAW": f"{run}.raw",
                    "VIGIL_TOPICS_CLASSIFIED": f"{run}.classified", "VIGIL_TOPICS_DLQ": f"{run}.dlq",
                    "VIGIL_TOPICS_PARTITIONS": "4", "VIGIL_STAGE_BATCH_SIZE": "16",
                    "VIGIL_STAGE_BACKOFF_INITIAL_S": "0.2", "VIGIL_STAGE_BACKOFF_MAX_S": "1",
                    "VIGIL_CLASSIFIER_MODEL": str(build_tiny_model(tmp_path / "model")),
                    "VIGIL_CLASSIFIER_THREADS": "1", "VIGIL_ALERTS_ENABLED": "false"}
        if backend == "kafka":  # servers of this test's own, to pause
            self.broker, bootstrap = stack.enter_context(tansu_process())
            self.index_server, self.es_url = stack.enter_context(osmem_process())
            self.env |= {"VIGIL_KAFKA_BOOTSTRAP": bootstrap, "VIGIL_ELASTICSEARCH_URL": self.es_url,
                         "VIGIL_ELASTICSEARCH_PLAIN_JSON": "true", "VIGIL_ELASTICSEARCH_ALIAS": run,
                         "VIGIL_ELASTICSEARCH_REQUEST_TIMEOUT_S": "5",
                         **{f"VIGIL_KAFKA_{k.upper()}": str(v) for k, v in FAST_GROUP.items()}}
        self.settings = load_settings(environ=self.env)
        self.transport = stack.enter_context(open_transport(self.settings))
        topics = self.settings.topics
        self.transport.ensure_topics([topics.raw, topics.classified, topics.dlq])
        self.stages: dict[str, subprocess.Popen] = {}
        self.logs = tmp_path
        stack.callback(self.stop)

    def start(self, stage: str) -> None:
        log = open(self.logs / f"{stage}.log", "a")
        self.stages[stage] = subprocess.Popen([*VIGIL, stage], env=self.env, cwd=self.logs, stdout=log, stderr=log)

    def kill(self, stage: str) -> None:
        """kill -9, then restart at once, as a supervisor would."""
        self.stages[stage].send_signal(signal.SIGKILL)
        self.stages[stage].wait()
        self.start(stage)

    def outage(self, what: str) -> None:
        """The index or the broker stops answering for OUTAGE_S, then comes back."""
        if self.backend == "kafka":
            server = self.index_server if what == "index" else self.broker
            server.send_signal(signal.SIGSTOP)
            time.sleep(OUTAGE_S)
            server.send_signal(signal.SIGCONT)
            return
        name = "store.sqlite" if what == "index" else "log.sqlite"
        with sqlite3.connect(self.settings.data_dir / name, isolation_level=None) as conn:
            conn.execute("BEGIN EXCLUSIVE")  # every reader and writer of the file waits or fails meanwhile
            time.sleep(OUTAGE_S)
            conn.execute("COMMIT")

    def publish(self, values: list[bytes], topic: str) -> None:
        if self.backend == "kafka":  # a producer that allows the 800 KB poison
            producer = KafkaProducer(bootstrap_servers=self.settings.kafka.bootstrap, max_request_size=4_000_000)
            for value in values:
                producer.send(topic, value=value)
            producer.flush()
            producer.close()
            return
        producer = self.transport.producer()
        for value in values:
            producer.send(topic, value)
        producer.close()

    def tombstone(self) -> None:
        producer = KafkaProducer(bootstrap_servers=self.settings.kafka.bootstrap)
        producer.send(self.settings.topics.raw, value=None, key=b"deleted")
        producer.close()

    def indexed(self) -> list[str]:
        """Every document id in the store, one entry per stored copy."""
        if self.backend == "kafka":
            body = json.dumps({"size": 10_000, "_source": False, "query": {"match_all": {}}}).encode()
            request = urllib.request.Request(f"{self.es_url}/{self.settings.elasticsearch.alias}/_search", body,
                                             {"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return [hit["_id"] for hit in json.load(response)["hits"]["hits"]]
            except OSError:
                return []  # paused, or the index not created yet
        path = self.settings.data_dir / "store.sqlite"
        if not path.exists():
            return []
        with sqlite3.connect(path, timeout=30) as conn:
            try:
                return [row[0] for row in conn.execute("SELECT id FROM documents")]
            except sqlite3.OperationalError:  # the index stage has not made its tables yet
                return []

    def alive(self) -> dict[str, int | None]:
        return {stage: proc.poll() for stage, proc in self.stages.items()}

    def stop(self) -> None:
        for proc in self.stages.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.stages.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()


def poisons(backend: str) -> dict[str, list[bytes]]:
    """Per input topic, the messages no stage can take; the tombstone is sent apart (Kafka only)."""
    good = raw_document("https://e.org/poison", "a valid text", title="poison")
    foreign_id = good.model_dump(mode="json", by_alias=True) | {"id": "ид-документа-0123456789abcdef01234"}
    out_of_range = classified(good, {"recruitment": 0.9}).model_dump(mode="json", by_alias=True)
    out_of_range["scores"] = {"recruitment": 1.5}
    return {
        "raw": [b"not json", b'{"schema": "vigil.raw/1"}', json.dumps(foreign_id).encode(), b"<" * 800_000],
        "classified": [b"\xff\xfe binary", json.dumps(out_of_range).encode()],
    }


@contextmanager
def pipeline_on(tmp_path, backend):
    with ExitStack() as stack:
        yield Pipeline(tmp_path, backend, stack)


@pytest.mark.parametrize("backend", ["local", "kafka"])
def test_nothing_is_lost_or_duplicated_through_kills_outages_and_poisons(tmp_path, backend):
    rng = random.Random(SEED)
    documents = [raw_document(f"https://e.org/{backend}/{n}", f"document {n} about the news of the day {n % 17}")
                 for n in range(DOCUMENTS)]
    expected = {doc.id for doc in documents}
    faults = ["kill classify", "kill index", "outage index", "kill classify", "outage broker", "kill index",
              "kill classify", "kill index"]
    with pipeline_on(tmp_path, backend) as pipeline:
        topics = pipeline.settings.topics
        bad = poisons(backend)
        pipeline.start("classify")
        pipeline.start("index")
        # One wave per fault and a last one after them, so that the last fault too strikes with work left
        wave = DOCUMENTS // (len(faults) + 1)
        progress: list[int] = []  # documents indexed when each fault struck
        for n, fault in enumerate(faults):
            pipeline.publish([doc.to_bytes() for doc in documents[n * wave:(n + 1) * wave]], topics.raw)
            if n < len(bad["raw"]):
                pipeline.publish([bad["raw"][n]], topics.raw)
            if n < len(bad["classified"]):
                pipeline.publish([bad["classified"][n]], topics.classified)
            if n == 0 and backend == "kafka":
                pipeline.tombstone()
            before, target = len(pipeline.indexed()), rng.randint(10, wave // 2)
            deadline = time.monotonic() + 60
            while len(pipeline.indexed()) < before + target and time.monotonic() < deadline:
                time.sleep(rng.uniform(0.05, 0.3))  # a random point in the wave
            action, stage = fault.split()
            progress.append(len(set(pipeline.indexed())))
            pipeline.kill(stage) if action == "kill" else pipeline.outage(stage)
        pipeline.publish([doc.to_bytes() for doc in documents[len(faults) * wave:]], topics.raw)

        deadline = time.monotonic() + 240
        while set(pipeline.indexed()) != expected and time.monotonic() < deadline:
            assert all(code is None for code in pipeline.alive().values()), pipeline.alive()
            time.sleep(0.5)
        assert all(0 < done < DOCUMENTS for done in progress), progress  # every fault struck mid-run
        ids = pipeline.indexed()
        assert set(ids) == expected, f"{len(expected - set(ids))} documents never indexed"
        assert len(ids) == len(set(ids)), "a document was indexed twice"
        assert all(code is None for code in pipeline.alive().values()), "a stage exited on its own"

        report = dead_letters.inspect(pipeline.settings, pipeline.transport)
        tombstones = 1 if backend == "kafka" else 0
        assert report.by_stage_and_error == {("classify", "invalid message"): len(bad["raw"]) + tombstones,
                                             ("index", "invalid message"): len(bad["classified"])}, report.lines()
        reasons = " ".join(letter.error for letter in report.latest)
        for reason in ("Invalid JSON", "id: Field required", "String should match pattern", "must be a probability"):
            assert reason in reasons
    codes = pipeline.alive()
    assert codes == {"classify": 0, "index": 0}, "the stages did not stop cleanly on SIGTERM"
