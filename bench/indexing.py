"""Bulk indexing throughput into the Elasticsearch-API test server (osmem-server), against indexing one
document per request with the official client, measured in the same run (the ratio). Runs the store's
bulk upserts (locate + retention class + update) at several bulk sizes and concurrencies, then the whole
index stage reading from the Kafka-protocol test server. The test server is in-memory and shares the
2 cores with this process, so absolute figures are a floor for a real cluster.
Usage: python bench/indexing.py [DOCUMENTS]
"""
from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.config import VigilSettings  # noqa: E402
from streams.stores.base import to_index_document  # noqa: E402
from streams.stores.elastic import ElasticsearchStore  # noqa: E402
from streams.transports import open_transport  # noqa: E402
from tests.factories import classified, raw_document  # noqa: E402
from tests.servers import osmem_server, tansu_broker  # noqa: E402
from vigil.pipeline import index_runner, setup  # noqa: E402

TEXT = ("Police said the group had posted recruitment videos online; researchers who study extremist media "
        "describe the channel as a hub for propaganda. ") * 6  # about 1 KB, like an extracted page


def documents(n: int, run: str):
    return [classified(raw_document(f"https://{run}.example/{i}", f"{TEXT} {run} {i}", source=f"s{i % 20}"),
                       {"recruitment": 0.9 if i % 10 == 0 else 0.1, "propaganda": 0.2}) for i in range(n)]


def settings_for(url: str, **elasticsearch) -> VigilSettings:
    alias = f"bench{uuid.uuid4().hex[:8]}"
    return VigilSettings.model_validate({"elasticsearch": {"url": url, "plain_json": True, "alias": alias,
                                                           **elasticsearch}, "alerts": {"enabled": False}})


def main(n: int) -> None:
    with osmem_server() as url, tansu_broker() as bootstrap:
        settings = settings_for(url)
        store = ElasticsearchStore(settings.elasticsearch)
        store.setup()
        docs = documents(n // 5, "naive")
        started = time.perf_counter()
        for doc in docs:
            body = to_index_document(doc)
            store.client.index(index=store.layout.write_alias("unflagged"), id=body["id"], document=body)
        baseline = len(docs) / (time.perf_counter() - started)
        print(f"one request per document (baseline): {baseline:.0f} documents/s over {len(docs)} documents")

        for chunk, concurrency, batch in ((100, 1, 500), (500, 1, 500), (500, 2, 1000), (1000, 1, 1000)):
            settings = settings_for(url, bulk_chunk_size=chunk, bulk_concurrency=concurrency)
            store = ElasticsearchStore(settings.elasticsearch)
            store.setup()
            docs = documents(n, f"c{chunk}x{concurrency}")
            started = time.perf_counter()
            for i in range(0, n, batch):
                assert store.upsert(docs[i:i + batch]) == [None] * len(docs[i:i + batch])
            rate = n / (time.perf_counter() - started)
            print(f"bulk upserts, {chunk} per request, {concurrency} in flight, batches of {batch}: {rate:.0f} "
                  f"documents/s (ratio to baseline {rate / baseline:.1f})", flush=True)

        settings = settings_for(url)
        settings.kafka.bootstrap = bootstrap
        settings.kafka.client = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 500}
        run = uuid.uuid4().hex[:8]
        settings.topics.classified, settings.topics.dlq = f"{run}.classified", f"{run}.dlq"
        settings.stage.batch_size = 500
        transport = open_transport(settings)
        store = ElasticsearchStore(settings.elasticsearch)
        setup(settings, transport, store)
        producer = transport.producer()
        for doc in documents(n, "stage"):
            producer.send(settings.topics.classified, doc.to_bytes(), key=doc.document.id.encode())
        producer.close()
        started = time.perf_counter()
        stats = index_runner(settings, transport, store).run(until_drained=True)
        rate = stats["indexed"] / (time.perf_counter() - started)
        print(f"index stage (Kafka -> validate -> bulk -> commit, batches of 500): {rate:.0f} documents/s "
              f"(ratio to baseline {rate / baseline:.1f}), {stats['indexed']} indexed, "
              f"{stats['dead_lettered']} dead-lettered")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000)
