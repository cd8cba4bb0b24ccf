"""The commands as users and schedulers run them: `scrapy crawl`, `vigil` stages and SIGTERM."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from streams.config import load_settings
from streams.transports import open_transport
from tests.factories import raw_document
from tests.unit.tiny_model import build_tiny_model
from vigil.demo.site import DemoSite

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
VIGIL = [sys.executable, "-m", "vigil"]


def environment(tmp_path: Path, **extra) -> dict:
    return {**os.environ, "VIGIL_DATA_DIR": str(tmp_path / "data"), **extra}


def read_topic(env: dict, topic: str, group: str = "check") -> list:
    transport = open_transport(load_settings(environ=env))
    consumer = transport.consumer([topic], group)
    records = consumer.poll(1000, 0.5)
    consumer.close()
    return records


def test_scrapy_crawl_works_like_any_scrapy_project(tmp_path):
    env = environment(tmp_path)
    with DemoSite() as site:
        sources = tmp_path / "sources.yaml"
        sources.write_text(site.sources_yaml())
        result = subprocess.run([sys.executable, "-m", "scrapy", "crawl", "site", "-a", "source=riverside",
                                 "-a", f"sources={sources}", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=0"],
                                cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert len({r.key for r in read_topic(env, "vigil.raw")}) == len(site.pages) + 1


def test_unknown_source_is_a_clear_error(tmp_path):
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources:\n- id: one\n  start_urls: [https://example.org/]\n")
    result = subprocess.run([*VIGIL, "crawl", "--sources", str(sources), "--source", "two"], cwd=tmp_path,
                            env=environment(tmp_path), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "no source two" in result.stderr and "known: one" in result.stderr


def test_sigterm_finishes_the_batch_commits_and_exits(tmp_path):
    env = environment(tmp_path, VIGIL_CLASSIFIER_MODEL=str(build_tiny_model(tmp_path / "model")),
                      VIGIL_STAGE_BATCH_SIZE="4")
    transport = open_transport(load_settings(environ=env))
    transport.ensure_topics(["vigil.raw", "vigil.classified", "vigil.dlq"])
    producer = transport.producer()
    for i in range(20):
        producer.send("vigil.raw", raw_document(f"https://e.org/{i}", f"text number {i}").to_bytes())
    producer.close()

    stage = subprocess.Popen([*VIGIL, "classify"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(read_topic(env, "vigil.classified", group=f"peek{time.monotonic()}")) < 20:
        assert time.monotonic() < deadline and stage.poll() is None
        time.sleep(0.2)
    stage.send_signal(signal.SIGTERM)
    out, err = stage.communicate(timeout=30)
    assert stage.returncode == 0, err[-2000:]
    assert json.loads(out)["classify"]["processed"] == 20
    # Everything was committed: a new run of the stage finds nothing left to do.
    again = subprocess.run([*VIGIL, "classify", "--once"], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=60)
    assert json.loads(again.stdout)["classify"].get("processed", 0) == 0
