"""Scale-out on the Kafka-protocol test server and on the embedded log: classifier workers in one consumer
group split the partitions, and when one is killed (-9) the others take its partitions over with nothing lost."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from streams.config import load_settings
from streams.schemas import ClassifiedDocument
from streams.transports import open_transport
from tests.conftest import unique
from tests.factories import raw_document
from tests.servers import free_port
from tests.unit.tiny_model import build_tiny_model

pytestmark = pytest.mark.integration
VIGIL = [sys.executable, "-m", "vigil"]
WORDS = "the group said members should travel and join while police reported the news of the attack".split()


def processed(port: int) -> float:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
            text = response.read().decode()
    except OSError:
        return 0.0
    match = re.search(r'vigil_stage_messages_total\{outcome="processed",stage="classify"\} ([0-9.e+]+)', text)
    return float(match.group(1)) if match else 0.0


@pytest.mark.parametrize("backend", ["kafka", "local"])
def test_workers_split_partitions_and_survive_a_killed_worker(tmp_path, backend, request):
    run = unique("scale")
    env = {**os.environ, "VIGIL_DATA_DIR": str(tmp_path / "data"),
           "VIGIL_TOPICS_RAW": f"{run}.raw", "VIGIL_TOPICS_CLASSIFIED": f"{run}.classified",
           "VIGIL_TOPICS_DLQ": f"{run}.dlq", "VIGIL_TOPICS_PARTITIONS": "6", "VIGIL_STAGE_BATCH_SIZE": "8",
           "VIGIL_CLASSIFIER_MODEL": str(build_tiny_model(tmp_path / "model")), "VIGIL_CLASSIFIER_THREADS": "1",
           "VIGIL_ALERTS_ENABLED": "false"}
    if backend == "kafka":
        env |= {"VIGIL_KAFKA_BOOTSTRAP": request.getfixturevalue("kafka_bootstrap"),
                "VIGIL_KAFKA_SESSION_TIMEOUT_MS": "2000", "VIGIL_KAFKA_HEARTBEAT_INTERVAL_MS": "500"}
    else:  # the embedded log in VIGIL_DATA_DIR, with its default 10 s lease
        env.pop("VIGIL_KAFKA_BOOTSTRAP", None)
    settings = load_settings(environ=env)
    transport = open_transport(settings)
    transport.ensure_topics([settings.topics.raw, settings.topics.classified, settings.topics.dlq])
    producer = transport.producer()
    expected = set()
    for i in range(3000):
        text = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(90)) + f" item {i}"
        doc = raw_document(f"https://e.org/{i}", text)
        expected.add(doc.id)
        producer.send(settings.topics.raw, doc.to_bytes(), key=doc.id.encode())
    producer.close()

    ports = [free_port(), free_port()]
    workers = [subprocess.Popen([*VIGIL, "classify"], cwd=tmp_path, env={**env, "VIGIL_METRICS_PORT": str(port)},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for port in ports]
    try:
        deadline = time.monotonic() + 90
        while not all(processed(port) > 0 for port in ports):  # both got partitions and work
            assert time.monotonic() < deadline, "the two workers did not both receive partitions"
            assert all(worker.poll() is None for worker in workers)
            time.sleep(0.2)
        workers[0].send_signal(signal.SIGKILL)  # no goodbye, no commit of its batch in hand

        consumer = transport.consumer([settings.topics.classified], "check")
        seen = set()
        deadline = time.monotonic() + 120
        while seen != expected:
            assert time.monotonic() < deadline, f"{len(expected - seen)} documents never classified"
            seen |= {ClassifiedDocument.from_bytes(r.value).document.id for r in consumer.poll(1000, 0.5)}
        consumer.close()
        assert workers[1].poll() is None
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        outputs = [worker.communicate(timeout=60) for worker in workers]
    assert workers[1].returncode == 0, outputs[1][1][-2000:]
    assert seen == expected  # at least once: the killed worker's uncommitted batch was redone, nothing missing
