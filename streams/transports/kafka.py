"""Kafka through kafka-python: acks=all, keyed by document id, manual commits.

Client settings pass through under kafka-python's own names; each one goes to the
clients that know it, and a name no client knows fails at start-up, as kafka-python does.
"""
from __future__ import annotations

import logging
import time
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import (
    CorruptRecordError,
    InvalidRecordError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    TopicAlreadyExistsError,
)

from streams.config import ConfigError, TopicSettings
from streams.errors import TransientError, delivery_error
from streams.transports.base import Consumer, Producer, Record, Transport

log = logging.getLogger(__name__)

PRODUCER_DEFAULTS = {"acks": "all", "linger_ms": 5, "batch_size": 256 * 1024, "retries": 5}
CONSUMER_DEFAULTS = {"enable_auto_commit": False, "auto_offset_reset": "earliest"}
# Set by Vigil itself; a config that tried to change them would break the delivery guarantee.
FIXED = {"enable_auto_commit", "key_serializer", "value_serializer", "key_deserializer", "value_deserializer"}
# Vigil's own settings: given twice, the clients would get them twice and fail with a TypeError.
OWN = {"bootstrap_servers": "kafka.bootstrap (VIGIL_KAFKA_BOOTSTRAP)",
       "group_id": "stage.group_prefix (VIGIL_STAGE_GROUP_PREFIX): groups are <prefix>-classify and <prefix>-index"}
# Errors about the message itself: the same message fails the same way on every retry. Every other
# error (connection, leader, authorisation) is retried, so a broker problem never drops a message.
REFUSED_MESSAGE = (MessageSizeTooLargeError, RecordListTooLargeError, CorruptRecordError, InvalidRecordError)


def split_client_settings(client: dict[str, Any]) -> tuple[dict, dict, dict]:
    """Split one settings dict into producer, consumer and admin configs by the clients' own names."""
    producer_keys = set(KafkaProducer.DEFAULT_CONFIG)
    consumer_keys = set(KafkaConsumer.DEFAULT_CONFIG)
    admin_keys = set(KafkaAdminClient.DEFAULT_CONFIG)
    for key in client:
        if key in OWN:
            raise ConfigError(f"kafka.client.{key}: set {OWN[key]} instead")
        if key in FIXED:
            raise ConfigError(f"kafka.client.{key}: Vigil sets this itself to keep its delivery guarantee; remove it")
        if key not in producer_keys | consumer_keys | admin_keys:
            raise ConfigError(
                f"kafka.client.{key}: not a kafka-python setting (see KafkaProducer/KafkaConsumer DEFAULT_CONFIG)"
            )
    pick = lambda keys: {k: v for k, v in client.items() if k in keys}  # noqa: E731
    return pick(producer_keys), pick(consumer_keys), pick(admin_keys)


class KafkaTransport(Transport):
    name = "kafka"

    def __init__(self, bootstrap: str, client: dict[str, Any], topics: TopicSettings):
        self.bootstrap = bootstrap.split(",")
        self._producer_cfg, self._consumer_cfg, self._admin_cfg = split_client_settings(client)
        self._topics = topics

    def ensure_topics(self, topics):
        try:
            admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, **self._admin_cfg)
        except KafkaError as exc:
            raise TransientError(f"Kafka at {','.join(self.bootstrap)} unreachable: {exc}") from exc
        try:
            existing = set(admin.list_topics())
            missing = [t for t in topics if t not in existing]
            if missing:
                try:
                    admin.create_topics([
                        NewTopic(t, self._topics.partitions, self._topics.replication_factor) for t in missing
                    ])
                    log.info("created Kafka topics %s with %d partitions", missing, self._topics.partitions)
                except TopicAlreadyExistsError:
                    pass  # another process created them first
        finally:
            admin.close()

    def _reader(self, group: str | None) -> KafkaConsumer:
        """A consumer for one look (offsets, a record), with the configured client settings."""
        try:
            return KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group,
                                 **{**CONSUMER_DEFAULTS, **self._consumer_cfg})
        except KafkaError as exc:
            raise TransientError(f"Kafka at {','.join(self.bootstrap)} unreachable: {exc}") from exc

    def committed(self, group, topic):
        consumer = self._reader(group)  # subscribes to nothing, so never joins the group: it only reads offsets
        try:
            positions = {}
            for partition in consumer.partitions_for_topic(topic) or ():
                offset = consumer.committed(TopicPartition(topic, partition))
                if offset is not None:
                    positions[partition] = offset
            return positions
        except KafkaError as exc:
            raise TransientError(f"Kafka offsets of {group} on {topic}: {exc}") from exc
        finally:
            consumer.close(autocommit=False)

    def fetch(self, topic, partition, offset, timeout_s: float = 10.0):
        tp = TopicPartition(topic, partition)
        consumer = self._reader(None)
        try:
            consumer.assign([tp])
            consumer.seek(tp, offset)
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                for record in consumer.poll(timeout_ms=500, max_records=1).get(tp, []):
                    # A later offset: the record is gone and the consumer was reset to the earliest one.
                    return record.value if record.offset == offset else None
            return None
        except KafkaError as exc:
            raise TransientError(f"Kafka fetch of {topic}[{partition}]@{offset}: {exc}") from exc
        finally:
            consumer.close(autocommit=False)

    def producer(self):
        return KafkaProducerAdapter(self.bootstrap, {**PRODUCER_DEFAULTS, **self._producer_cfg})

    def consumer(self, topics, group):
        return KafkaConsumerAdapter(topics, self.bootstrap, group, {**CONSUMER_DEFAULTS, **self._consumer_cfg})


class KafkaProducerAdapter(Producer):
    def __init__(self, bootstrap: list[str], config: dict[str, Any]):
        try:
            self._producer = KafkaProducer(bootstrap_servers=bootstrap, **config)
        except KafkaError as exc:
            raise TransientError(f"Kafka at {','.join(bootstrap)} unreachable: {exc}") from exc
        self._futures: list[Any] = []  # kafka-python FutureRecordMetadata, awaited by flush()

    def send(self, topic, value, key=None, headers=None):
        try:
            self._futures.append(self._producer.send(topic, value=value, key=key, headers=headers or []))
        except KafkaError as exc:  # reported by flush() at this message's position, like a failed future
            self._futures.append(exc)

    def flush(self, timeout_s=None):
        futures, self._futures = self._futures, []
        try:
            self._producer.flush(timeout=timeout_s)
        except KafkaError as exc:
            raise delivery_error(f"Kafka did not acknowledge {len(futures)} messages",
                                 dict.fromkeys(range(len(futures)), exc), set()) from exc
        undelivered: dict[int, Exception] = {}
        for position, future in enumerate(futures):
            try:
                if isinstance(future, Exception):
                    raise future
                future.get(timeout=timeout_s or 30)  # raises if the broker did not acknowledge
            except KafkaError as exc:
                undelivered[position] = exc
        if undelivered:
            permanent = {p for p, exc in undelivered.items() if isinstance(exc, REFUSED_MESSAGE)}
            raise delivery_error("Kafka refused or did not acknowledge messages", undelivered, permanent)

    def close(self):
        self.flush()
        self._producer.close()


class KafkaConsumerAdapter(Consumer):
    def __init__(self, topics: list[str], bootstrap: list[str], group: str, config: dict[str, Any]):
        try:
            self._consumer = KafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=group, **config)
        except KafkaError as exc:
            raise TransientError(f"Kafka at {','.join(bootstrap)} unreachable: {exc}") from exc

    def poll(self, max_records, timeout_s):
        try:
            batches = self._consumer.poll(timeout_ms=int(timeout_s * 1000), max_records=max_records)
        except KafkaError as exc:
            raise TransientError(f"Kafka poll failed: {exc}") from exc
        return [
            Record(r.topic, r.partition, r.offset, r.key, r.value, list(r.headers or []))
            for records in batches.values() for r in records
        ]

    def commit(self):
        try:
            self._consumer.commit()
        except KafkaError as exc:
            raise TransientError(f"Kafka commit failed: {exc}") from exc

    def lag(self):
        assigned = self._consumer.assignment()
        if not assigned:
            return None
        total = 0
        for tp in assigned:
            # highwater() comes with every fetch response; end_offsets() is unreliable on some brokers.
            high = self._consumer.highwater(tp)
            if high is None:
                return None
            total += max(0, high - self._consumer.position(tp))
        return total

    def close(self):
        self._consumer.close(autocommit=False)
