"""Prometheus metrics for every stage a process runs: messages by outcome, consumer lag, batch latency.

Counters are read from each runner's stats at scrape time (one source of truth); batch latency is
a histogram observed by the runner. `metrics.port` turns the /metrics endpoint on.
"""
from __future__ import annotations

import logging

from prometheus_client import REGISTRY, Histogram, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from streams.config import MetricsSettings

log = logging.getLogger(__name__)

BATCH_SECONDS = Histogram("vigil_stage_batch_seconds", "Time to process, produce and commit one batch.", ["stage"],
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))
OUTCOMES = ("consumed", "processed", "flagged", "indexed", "dead_lettered", "item_retries", "transient_errors")


class StageCollector:
    """Exposes the stats of the runners registered with it."""

    def __init__(self):
        self.runners = {}  # stage name -> runner; one runner per stage in a process

    def collect(self):
        messages = CounterMetricFamily("vigil_stage_messages", "Messages by stage and outcome.",
                                       labels=["stage", "outcome"])
        lag = GaugeMetricFamily("vigil_stage_consumer_lag", "Messages waiting on this worker's partitions.",
                                labels=["stage"])
        for runner in self.runners.values():
            for outcome in OUTCOMES:
                messages.add_metric([runner.stage.name, outcome], runner.stats.get(outcome, 0))
            if runner.last_lag is not None:
                lag.add_metric([runner.stage.name], runner.last_lag)
        yield messages
        yield lag


COLLECTOR = StageCollector()
REGISTRY.register(COLLECTOR)


def serve_metrics(settings: MetricsSettings, runners):
    """Register the runners and, when a port is configured, serve /metrics in a background thread
    (returns the server, or None)."""
    COLLECTOR.runners.update({runner.stage.name: runner for runner in runners})
    if settings.port is None:
        return None
    server, _ = start_http_server(settings.port, addr=settings.address)
    log.info("metrics on http://%s:%d/metrics", settings.address, server.server_port)
    return server
