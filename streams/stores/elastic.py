"""Elasticsearch through the official client: template + write alias, bulk upserts, review updates."""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from elastic_transport import Urllib3HttpNode
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from streams.config import ElasticsearchSettings
from streams.errors import RejectedError, TransientError
from streams.schemas import ClassifiedDocument, ReviewEvent
from streams.stores.base import Hit, SearchQuery, SearchResult, Store, review_fields, to_index_document

log = logging.getLogger(__name__)

DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "deploy" / "elasticsearch"
TEXT_FIELDS = ["title^2", "title.en^2", "title.ru^2", "title.ar^2", "title.zh^2", "text", "text.en", "text.ru",
               "text.ar", "text.zh"]
_VERSIONED = re.compile(r"application/vnd\.elasticsearch\+([a-z-]+)\s*;\s*compatible-with=\d+")


class PlainJsonNode(Urllib3HttpNode):
    """Sends application/json where the client would send Elasticsearch's versioned media types,
    for OpenSearch-dialect servers and proxies that answer those with 406."""

    def perform_request(self, method, target, body=None, headers=None, **kwargs):
        if headers:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                if name in headers:
                    headers[name] = _VERSIONED.sub(r"application/\1", headers[name])
        return super().perform_request(method, target, body=body, headers=headers, **kwargs)


def make_client(settings: ElasticsearchSettings) -> Elasticsearch:
    options: dict = {"request_timeout": settings.request_timeout_s, "verify_certs": settings.verify_certs}
    if settings.plain_json:
        options["node_class"] = PlainJsonNode
    if settings.ca_certs:
        options["ca_certs"] = str(settings.ca_certs)
    if settings.api_key:
        options["api_key"] = settings.api_key.get_secret_value()
    elif settings.username:
        options["basic_auth"] = (settings.username, settings.password.get_secret_value() if settings.password else "")
    return Elasticsearch(settings.url, **options)


def _transient(exc: Exception) -> bool:
    if isinstance(exc, ApiError):
        return exc.meta.status in (408, 429, 502, 503, 504)
    return isinstance(exc, TransportError)  # connection refused, timeouts


class ElasticsearchStore(Store):
    name = "elasticsearch"

    def __init__(self, settings: ElasticsearchSettings):
        self.settings = settings
        self.alias = settings.alias
        self.client = make_client(settings)
        self.templates_dir = settings.templates_dir or DEFAULT_TEMPLATES_DIR

    def _call(self, what: str, action):
        try:
            return action()
        except (ApiError, TransportError) as exc:
            if _transient(exc):
                raise TransientError(f"Elasticsearch at {self.settings.url}: {what} failed: {exc}") from exc
            raise

    def index_template(self) -> dict:
        template = json.loads((self.templates_dir / "index-template.json").read_text(encoding="utf-8"))
        template["index_patterns"] = [f"{self.alias}-*"]
        return template

    def setup(self):
        """Install (or upgrade in place) the index template, then create the first index behind the alias."""
        self._call("put template", lambda: self.client.indices.put_index_template(
            name=self.alias, **self.index_template()))
        if not self._call("check alias", lambda: self.client.indices.exists_alias(name=self.alias)):
            self._call("create index", lambda: self.client.indices.create(
                index=f"{self.alias}-000001", aliases={self.alias: {"is_write_index": True}}))
            log.info("created index %s-000001 behind alias %s", self.alias, self.alias)

    def upsert(self, docs: list[ClassifiedDocument]):
        actions = []
        for doc in docs:
            body = to_index_document(doc)
            # `doc` updates content fields only; `upsert` seeds review fields for a new document.
            actions.append({"_op_type": "update", "_index": self.alias, "_id": body["id"], "doc": body,
                            "upsert": {**body, "review": {"status": "unreviewed"}}})
        items = self._call("bulk", lambda: list(helpers.streaming_bulk(
            self.client, actions, raise_on_error=False, raise_on_exception=True, max_retries=0, chunk_size=500)))
        errors: dict[str, Exception] = {}
        for ok, item in items:
            if ok:
                continue
            result = item["update"]
            status = result.get("status", 0)
            reason = json.dumps(result.get("error"))[:1000]
            if status in (429, 502, 503, 504):
                raise TransientError(f"Elasticsearch rejected the bulk for load ({status}): {reason}")
            errors[result["_id"]] = RejectedError(f"Elasticsearch refused document {result['_id']} ({status}): {reason}")
        return [errors.get(doc.document.id) for doc in docs]

    def apply_review(self, event: ReviewEvent):
        try:
            self._call("review", lambda: self.client.update(
                index=self.alias, id=event.document_id, doc={"review": review_fields(event)}))
        except NotFoundError:
            raise KeyError(event.document_id) from None

    def get(self, doc_id):
        result = self._call("search", lambda: self.client.search(
            index=self.alias, query={"ids": {"values": [doc_id]}}, size=1))
        hits = result["hits"]["hits"]
        return hits[0]["_source"] if hits else None

    def refresh(self):
        self._call("refresh", lambda: self.client.indices.refresh(index=self.alias))

    def search(self, query: SearchQuery) -> SearchResult:
        must, filters = [], []
        if query.text:
            must.append({"simple_query_string": {"query": query.text, "fields": TEXT_FIELDS,
                                                 "default_operator": "and"}})
        if query.label:
            filters.append({"term": {"labels": query.label}})
        if query.min_score is not None:
            field = f"scores.{query.label}" if query.label else "max_score"
            filters.append({"range": {field: {"gte": query.min_score}}})
        for field, value in (("source", query.source), ("lang", query.lang), ("flagged", query.flagged)):
            if value is not None:
                filters.append({"term": {field: value}})
        if query.since or query.until:
            bounds = {}
            if query.since:
                bounds["gte"] = query.since.isoformat()
            if query.until:
                bounds["lte"] = query.until.isoformat()
            filters.append({"range": {"fetched_at": bounds}})
        if query.review_status:
            filters.append({"term": {"review.status": query.review_status}})
        sort = ["_score"] if query.text else [{"max_score": "desc"}, {"fetched_at": "desc"}]
        result = self._call("search", lambda: self.client.search(
            index=self.alias, query={"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
            sort=sort, size=query.limit, track_total_hits=True,
            highlight={"fields": {"text": {"number_of_fragments": 1, "fragment_size": 160}}}))
        hits = []
        for hit in result["hits"]["hits"]:
            src = hit["_source"]
            fragments = hit.get("highlight", {}).get("text", [])
            hits.append(Hit(
                id=src["id"], url=src["url"], title=src["title"], source=src["source"], lang=src["lang"],
                flagged=src["flagged"], labels=src["labels"], scores=src["scores"], fetched_at=src["fetched_at"],
                review_status=src.get("review", {}).get("status", "unreviewed"), model_version=src["model_version"],
                snippet=" … ".join(fragments) or src["text"][:200], evidence=src.get("evidence", []),
            ))
        total = result["hits"]["total"]
        return SearchResult(total=total["value"] if isinstance(total, dict) else total, hits=hits)

    def close(self):
        self.client.close()
