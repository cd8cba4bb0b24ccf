"""The index stage on Kafka + Elasticsearch exposes Prometheus metrics and stores flag-rate alerts."""
from __future__ import annotations

import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from streams.alerts import FlagRateMonitor
from streams.metrics import serve_metrics
from streams.stores import open_store
from streams.transports import open_transport
from tests.conftest import FAST_GROUP
from tests.factories import classified, raw_document
from vigil.pipeline import index_runner, setup

pytestmark = pytest.mark.integration


def test_index_stage_metrics_and_a_flag_rate_alert(settings, kafka_bootstrap, elasticsearch_url):
    settings.kafka.bootstrap, settings.kafka.client = kafka_bootstrap, dict(FAST_GROUP)
    settings.elasticsearch.url = elasticsearch_url
    settings.alerts.min_flags = 3
    settings.metrics.port = 0  # any free port
    transport, store = open_transport(settings), open_store(settings)
    setup(settings, transport, store)
    docs = [classified(raw_document(f"https://flood.example/{i}", f"text {i}", source="flood"),
                       {"recruitment": 0.9 if i < 6 else 0.1}) for i in range(10)]
    # History: an earlier window in which the source flagged 1 document in 20.
    earlier = FlagRateMonitor(settings.alerts)
    earlier.observe([classified(raw_document(f"https://flood.example/old{i}", f"old {i}", source="flood"),
                                {"recruitment": 0.9 if i == 0 else 0.1}) for i in range(20)],
                    datetime.now(timezone.utc) - timedelta(hours=1))
    producer = transport.producer()
    for doc in docs:
        producer.send(settings.topics.classified, doc.to_bytes(), key=doc.document.id.encode())
    producer.close()

    runner = index_runner(settings, transport, store)
    runner.stage.monitor = earlier
    server = serve_metrics(settings.metrics, [runner])
    try:
        stats = runner.run(until_drained=True)
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5) as response:
            text = response.read().decode()
    finally:
        server.shutdown()
    assert stats["indexed"] == 10 and stats["alerts"] == 2  # the source and the label: 60% against 5%
    assert 'vigil_stage_messages_total{outcome="indexed",stage="index"} 10.0' in text
    assert 'vigil_stage_messages_total{outcome="flagged",stage="index"} 6.0' in text
    assert 'vigil_stage_consumer_lag{stage="index"} 0.0' in text
    latency_histogram = 'vigil_stage_batch_seconds_count{stage="index"}'
    assert latency_histogram in text
    store.refresh()
    alerts = store.recent_alerts()
    assert {(a["kind"], a["key"]) for a in alerts} == {("source", "flood"), ("label", "recruitment")}
    assert all(a["flags"] == 6 and a["documents"] == 10 and a["ratio"] == 12.0 for a in alerts)
