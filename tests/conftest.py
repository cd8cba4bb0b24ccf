"""Shared fixtures: settings per test, the real test servers per session, both backends."""
from __future__ import annotations

import uuid

import pytest

from classifiers.default import ensure_default_model
from streams.config import VigilSettings
from tests.servers import osmem_server, tansu_broker

# Fast consumer-group joins on the test broker (it waits half the session timeout in JoinGroup).
FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 500}


@pytest.fixture(scope="session")
def default_model(tmp_path_factory):
    """The bundled default model, built once per session from its head and the encoder package."""
    return ensure_default_model(tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="session")
def kafka_bootstrap():
    with tansu_broker() as bootstrap:
        yield bootstrap


# osmem-server stops answering (the next index creation hangs) once about 140 indices with Vigil's analyzers were
# created in it, deleted or not (measured: a store's setup creates two; the 71st setup hangs). So each test module
# has a server of its own, and the tests of both stores (many per module) get a fresh one after this many.
TESTS_PER_OSMEM_SERVER = 25


@pytest.fixture(scope="session")
def _elasticsearch_servers():
    """A function giving the URL of the test server for the next test, starting a fresh one now and then."""
    current: dict = {"server": None, "url": None, "tests": 0}

    def next_url() -> str:
        if current["server"] is None or current["tests"] >= TESTS_PER_OSMEM_SERVER:
            if current["server"] is not None:
                current["server"].__exit__(None, None, None)
            current["server"] = osmem_server()
            current["url"], current["tests"] = current["server"].__enter__(), 0
        current["tests"] += 1
        return current["url"]

    yield next_url
    if current["server"] is not None:
        current["server"].__exit__(None, None, None)


@pytest.fixture(scope="module")
def elasticsearch_url():
    """A test server of the module's own."""
    with osmem_server() as url:
        yield url


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def settings(tmp_path) -> VigilSettings:
    """Embedded-backend settings with unique topic names in a fresh data directory."""
    run = unique("t")
    return VigilSettings.model_validate({
        "data_dir": str(tmp_path / "data"),
        "topics": {"raw": f"{run}.raw", "classified": f"{run}.classified", "reviews": f"{run}.reviews",
                   "dlq": f"{run}.dlq", "partitions": 3},
        "elasticsearch": {"alias": run, "plain_json": True},
        "stage": {"batch_size": 16, "poll_timeout_s": 0.5, "backoff_initial_s": 0.05, "backoff_max_s": 0.2},
    })


@pytest.fixture(params=["local", "kafka"])
def backend_settings(request, settings):
    """The same settings on the embedded log and on the Kafka-protocol test server."""
    if request.param == "kafka":
        settings.kafka.bootstrap = request.getfixturevalue("kafka_bootstrap")
        settings.kafka.client = dict(FAST_GROUP)
    return settings


@pytest.fixture(params=["embedded", "elasticsearch"])
def store_settings(request, settings):
    """The same settings on the embedded store and on the Elasticsearch-API test server."""
    if request.param == "elasticsearch":
        settings.elasticsearch.url = request.getfixturevalue("_elasticsearch_servers")()
    return settings
