"""The index stage on Kafka + Elasticsearch: a document the mapping rejects is dead-lettered, not the batch."""
from __future__ import annotations

import pytest

from streams.schemas import DeadLetter
from streams.stores import SearchQuery, open_store
from streams.transports import open_transport
from tests.conftest import FAST_GROUP
from tests.factories import classified, raw_document
from vigil.pipeline import index_runner, setup

pytestmark = pytest.mark.integration


def test_mapping_error_for_one_document_goes_to_the_dead_letter_topic(settings, kafka_bootstrap, elasticsearch_url):
    settings.kafka.bootstrap, settings.kafka.client = kafka_bootstrap, dict(FAST_GROUP)
    settings.elasticsearch.url = elasticsearch_url
    transport, store = open_transport(settings), open_store(settings)
    setup(settings, transport, store)
    good = [classified(raw_document(f"https://e.org/{i}", f"text {i}"), {"recruitment": 0.2}) for i in range(4)]
    # depth is mapped as short: Elasticsearch refuses this one document with a mapper_parsing_exception.
    bad = classified(raw_document("https://e.org/deep", "deep").model_copy(update={"depth": 100_000}),
                     {"recruitment": 0.2})
    producer = transport.producer()
    for doc in [*good[:2], bad, *good[2:]]:
        producer.send(settings.topics.classified, doc.to_bytes(), key=doc.document.id.encode())
    producer.close()

    stats = index_runner(settings, transport, store).run(until_drained=True)
    assert stats["indexed"] == 4 and stats["dead_lettered"] == 1
    store.refresh()
    assert store.search(SearchQuery()).total == 4

    consumer = transport.consumer([settings.topics.dlq], "check")
    letters = []
    for _ in range(20):
        letters += consumer.poll(10, 0.5)
        if letters:
            break
    consumer.close()
    letter = DeadLetter.from_bytes(letters[0].value)
    assert letter.stage == "index" and "mapper_parsing_exception" in letter.error and "depth" in letter.error
    assert letter.topic == settings.topics.classified
