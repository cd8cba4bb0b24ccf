"""Valid messages for tests, built the way the stages build them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from streams.schemas import ClassifiedDocument, Evidence, RawDocument, document_id, text_sha256

BASE_TIME = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)


def raw_document(url: str = "https://example.org/a", text: str = "Some ordinary text.", *, title: str = "A page",
                 source: str = "example", lang: str = "en", minutes: int = 0) -> RawDocument:
    digest = text_sha256(text)
    return RawDocument(
        id=document_id(url, digest), url=url, canonical_url=url, source=source,
        fetched_at=BASE_TIME + timedelta(minutes=minutes), http_status=200, content_type="text/html",
        lang=lang, lang_confidence=0.99, title=title, text=text, text_sha256=digest, simhash="0" * 16,
        crawl_job="job-1", spider="site",
    )


def classified(raw: RawDocument, scores: dict[str, float], threshold: float = 0.5,
               version: str = "test-1") -> ClassifiedDocument:
    labels = [label for label, score in scores.items() if score >= threshold]
    evidence = [Evidence(label=label, text=raw.text[:40], score=scores[label], start=0, end=min(40, len(raw.text)))
                for label in labels]
    return ClassifiedDocument(
        document=raw, model_name="test-model", model_version=version, scores=scores, labels=labels,
        flagged=bool(labels), thresholds={label: threshold for label in scores}, evidence=evidence,
    )
