"""Transports: one interface over Kafka and the embedded local log."""
from __future__ import annotations

from streams.config import VigilSettings
from streams.transports.base import Consumer, Producer, Record, Transport


def open_transport(settings: VigilSettings) -> Transport:
    """Kafka when a bootstrap address is configured, else the embedded log in data_dir."""
    if settings.kafka.bootstrap:
        from streams.transports.kafka import KafkaTransport

        return KafkaTransport(settings.kafka.bootstrap, settings.kafka.client, settings.topics)
    from streams.transports.local import LocalLogTransport

    return LocalLogTransport(settings.data_dir / "log.sqlite", settings.topics)


__all__ = ["Consumer", "Producer", "Record", "Transport", "open_transport"]
