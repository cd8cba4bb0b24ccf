"""End-to-end throughput of the pipeline on both backends, against the classifier alone.

Serves COPIES editions of the demo site (33 pages each) on 127.0.0.1, runs `run_once`
(crawl -> classify -> index) on the embedded backends and on Kafka + Elasticsearch (the tansu and
osmem-server test servers), and prints documents per second, time from fetch to searchable,
and the ratio of each run's end-to-end rate to the classifier alone on the same texts, measured
in the same run (classification is the slowest stage, so that ratio is the pipeline's efficiency).
Usage: python bench/pipeline.py [COPIES]
"""
from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.default import ensure_default_model  # noqa: E402
from classifiers.model import TextClassifier  # noqa: E402
from streams.config import VigilSettings  # noqa: E402
from tests.servers import osmem_server, tansu_broker  # noqa: E402
from vigil.demo.run import LOCAL_SITE_SPEED  # noqa: E402
from vigil.demo.site import DemoSite  # noqa: E402
from vigil.pipeline import run_once  # noqa: E402

FAST_GROUP = {"session_timeout_ms": 2000, "heartbeat_interval_ms": 500}


def main(copies: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    model = ensure_default_model(work / "models")
    with DemoSite(copies=copies) as site, tansu_broker() as kafka, osmem_server() as elasticsearch:
        texts = ["\n".join(page.body) for page in site.pages]
        classifier = TextClassifier.from_pretrained(model)
        classifier.predict(texts[:8])  # warm up
        started = time.perf_counter()
        classifier.predict(texts)
        baseline = len(texts) / (time.perf_counter() - started)
        print(f"classifier alone: {len(texts)} texts, {baseline:.1f} documents/s (baseline)")

        sources = work / "sources.yaml"
        sources.write_text(site.sources_yaml())
        for name, extra in (("embedded", {}),
                            ("kafka+elasticsearch", {"kafka": {"bootstrap": kafka, "client": FAST_GROUP},
                                                     "elasticsearch": {"url": elasticsearch, "plain_json": True}})):
            settings = VigilSettings.model_validate({"data_dir": str(work / name), "classifier": {"model": str(model)},
                                                     **extra})
            summary = run_once(settings, sources, scrapy_overrides=LOCAL_SITE_SPEED, progress=lambda _: None)
            total = summary.total_s
            rate = summary.documents / total
            stages = ", ".join(f"{stage} {s:.1f}s" for stage, s in summary.done_after_s.items())
            latency = summary.fetch_to_searchable_s
            print(f"{name}: {summary.documents} documents in {total:.1f}s = {rate:.1f} documents/s end to end "
                  f"(ratio to classifier alone {rate / baseline:.2f}); stages done after: {stages}; "
                  f"fetch to searchable median {latency['median']:.1f}s, max {latency['max']:.1f}s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
