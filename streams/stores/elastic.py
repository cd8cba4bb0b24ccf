"""Elasticsearch through the official client: template + write alias, bulk upserts, review updates."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any

from elastic_transport import Urllib3HttpNode
from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError, helpers

from streams.config import ConfigError, ElasticsearchSettings
from streams.errors import RejectedError, TransientError
from streams.hashlists.banks import Entry, HashList
from streams.schemas import ClassifiedDocument, ReviewEvent, utcnow
from streams.stores.base import (
    REVIEW_FIELDS,
    Hit,
    SearchQuery,
    SearchResult,
    Store,
    history_entry,
    legacy_event,
    review_fields,
    standing_event,
    to_index_document,
    utc_text,
)
from streams.stores.elastic_layout import DEFAULT_DIRECTORY, RETENTION_CLASSES, Layout
from streams.stores.query import Term, TextQuery

log = logging.getLogger(__name__)

LANGUAGE_FIELDS = ("en", "ru", "ar", "fa", "zh")
TEXT_FIELDS = ["title^2", *(f"title.{lang}^2" for lang in LANGUAGE_FIELDS),
               "text", *(f"text.{lang}" for lang in LANGUAGE_FIELDS)]
EVENT_FIELDS = tuple(name for name in ReviewEvent.model_fields if name != "schema_")
MAX_HISTORY = 10_000  # decisions on one document read back at once
_VERSIONED = re.compile(r"application/vnd\.elasticsearch\+([a-z-]+)\s*;\s*compatible-with=\d+")


def phrase_query(term: Term) -> dict:
    """The term as a phrase on every text field, each analyzing it as it analyzed the documents
    (a phrase of one word is that word)."""
    return {"multi_match": {"query": term.text, "fields": TEXT_FIELDS,
                            "type": "phrase_prefix" if term.prefix else "phrase"}}


def bool_query(text: TextQuery) -> dict:
    """The parsed query as bool clauses; match queries never parse their text, so nothing in it is syntax."""
    def any_of(group: tuple[Term, ...]) -> dict:
        if len(group) == 1:
            return phrase_query(group[0])
        return {"bool": {"should": [phrase_query(term) for term in group], "minimum_should_match": 1}}

    return {"bool": {"must": [any_of(group) for group in text.required],
                     "must_not": [phrase_query(term) for term in text.excluded]}}


class PlainJsonNode(Urllib3HttpNode):
    """Sends application/json where the client would send Elasticsearch's versioned media types,
    for OpenSearch-dialect servers and proxies that answer those with 406."""

    # Options beyond the headers pass through as the client sends them, whatever its version's signature.
    def perform_request(self, method, target, body=None, headers=None, **options):  # type: ignore[override]
        if headers:
            headers = headers.copy()
            for name in ("accept", "content-type"):
                if name in headers:
                    headers[name] = _VERSIONED.sub(r"application/\1", headers[name])
        return super().perform_request(method, target, body=body, headers=headers, **options)


def make_client(settings: ElasticsearchSettings) -> Elasticsearch:
    # 429 is left out of the client's immediate retries: bulk re-sends those items with backoff instead.
    options: dict = {"request_timeout": settings.request_timeout_s, "verify_certs": settings.verify_certs,
                     "retry_on_status": (502, 503, 504)}
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
    """Documents in two retention classes (see elastic_layout); updates go to the index a document is in,
    so rollover never duplicates a document and reviews reach documents in older indices."""

    name = "elasticsearch"

    def __init__(self, settings: ElasticsearchSettings):
        self.settings = settings
        self.alias = settings.alias
        self.layout = Layout(settings.alias, settings.templates_dir or DEFAULT_DIRECTORY)
        self.client = make_client(settings)
        self._source_first_seen: dict[str, str] = {}

    def _call(self, what: str, action):
        try:
            return action()
        except (ApiError, TransportError) as exc:
            if _transient(exc):
                raise TransientError(f"Elasticsearch at {self.settings.url}: {what} failed: {exc}") from exc
            raise

    def has_lifecycle_management(self) -> bool:
        try:
            self._call("check ILM", self.client.ilm.get_status)
            return True
        except ApiError:  # OpenSearch and the test server have no ILM API
            return False

    def setup(self):
        """Install or upgrade in place: lifecycle policies, component and index templates, the first index
        of each retention class behind its write alias, the alerts index. Safe to run again."""
        layout, client = self.layout, self.client
        lifecycle = self.has_lifecycle_management()
        if lifecycle:
            for name, body in layout.lifecycle_policies().items():
                self._call(f"put lifecycle policy {name}", lambda: client.ilm.put_lifecycle(name=name, **body))
        else:
            log.warning("%s has no index lifecycle management (ILM): retention policies not installed, "
                        "documents are kept until deleted", self.settings.url)
        for name, body in layout.component_templates().items():
            self._call(f"put component template {name}",
                       lambda: client.cluster.put_component_template(name=name, **body))
        for name, body in layout.index_templates(lifecycle).items():
            self._call(f"put index template {name}", lambda: client.indices.put_index_template(name=name, **body))
        mappings = layout.document_mappings()
        for retention in RETENTION_CLASSES:
            write_alias = layout.write_alias(retention)
            if self._call("check alias", lambda: client.indices.exists_alias(name=write_alias)):
                # Templates only shape new indices; new fields reach the existing ones (older ones too,
                # since documents in them are still updated) here.
                self._call("upgrade mappings", lambda: client.indices.put_mapping(
                    index=f"{write_alias}-*", **mappings))
            else:
                self._call("create index", lambda: client.indices.create(
                    index=layout.first_index(retention), aliases={write_alias: {"is_write_index": True}}))
                log.info("created %s behind write alias %s", layout.first_index(retention), write_alias)
        if not self._call("check alerts index", lambda: client.indices.exists(index=layout.alerts_index)):
            self._call("create alerts index", lambda: client.indices.create(index=layout.alerts_index))
        for index in (layout.hashlists_index, layout.hashlist_entries_index):
            if self._call("check hash list index", lambda: client.indices.exists(index=index)):
                mappings = layout.index_templates()[index]["template"]["mappings"]
                self._call("upgrade hash list mappings", lambda: client.indices.put_mapping(index=index, **mappings))
            else:
                self._call("create hash list index", lambda: client.indices.create(index=index))
        reviews = layout.reviews_index
        if self._call("check reviews index", lambda: client.indices.exists(index=reviews)):
            mappings = layout.index_templates()[reviews]["template"]["mappings"]
            self._call("upgrade reviews mappings", lambda: client.indices.put_mapping(index=reviews, **mappings))
        else:
            self._call("create reviews index", lambda: client.indices.create(index=reviews))
            self._start_history()

    def _start_history(self):
        """Documents reviewed before the history existed: each one's decision becomes its first event (already
        published: it was, when it was made)."""
        query = {"bool": {"filter": [{"exists": {"field": "review.status"}}],
                          "must_not": [{"term": {"review.status": "unreviewed"}}]}}
        documents = self._call("scan reviews", lambda: list(helpers.scan(
            self.client, index=self.alias, query={"query": query, "sort": ["_doc"]})))
        actions = [{"_op_type": "create", "_index": self.layout.reviews_index, "_id": event.event_id,
                    "_source": self._history_document(event, published=True)}
                   for event in (legacy_event(hit["_source"]) for hit in documents)]
        if actions:
            self._call("start the history", lambda: helpers.bulk(self.client, actions, raise_on_error=False,
                                                                 refresh=True))
            log.info("review history started with the %d decisions documents held", len(actions))

    def _locate(self, ids: list[str], source: list[str] | bool) -> dict[str, dict]:
        """Where each existing document lives: id -> hit (`_index`, `_source`), copies in other indices
        listed under `duplicates`. One search per batch, over the read alias."""
        if not ids:
            return {}
        # `_source` (the client's alias of `source`, whose types leave out the list of fields the API takes)
        result = self._call("locate", lambda: self.client.search(  # type: ignore[call-arg]
            index=self.alias, query={"ids": {"values": ids}}, size=len(ids) * 2, _source=source))
        found: dict[str, dict] = {}
        for hit in result["hits"]["hits"]:
            kept = found.get(hit["_id"])
            if kept is None:
                found[hit["_id"]] = {**hit, "duplicates": []}
            elif self.layout.retention_of(hit["_index"]) == "flagged":  # the long-kept copy wins
                found[hit["_id"]] = {**hit, "duplicates": [kept["_index"], *kept["duplicates"]]}
            else:
                kept["duplicates"].append(hit["_index"])
        return found

    def _first_seen(self, docs: list[ClassifiedDocument]) -> dict[str, str]:
        """When each source was first indexed (for "high score from a new source"), looked up once per source."""
        unknown = sorted({doc.document.source for doc in docs} - set(self._source_first_seen))
        if unknown:
            result = self._call("source first seen", lambda: self.client.search(
                index=self.alias, size=0, query={"terms": {"source": unknown}},
                aggs={"sources": {"terms": {"field": "source", "size": len(unknown)},
                                  "aggs": {"first": {"min": {"field": "fetched_at"}}}}}))
            for bucket in result["aggregations"]["sources"]["buckets"]:
                first = bucket["first"].get("value_as_string") or bucket["first"].get("value")
                if isinstance(first, (int, float)):
                    first = datetime.fromtimestamp(first / 1000, timezone.utc).isoformat()
                self._source_first_seen[bucket["key"]] = first
            for doc in sorted(docs, key=lambda d: d.document.fetched_at):
                self._source_first_seen.setdefault(doc.document.source, doc.document.fetched_at.isoformat())
        return self._source_first_seen

    def _bulk(self, actions: list[dict]) -> list[tuple[bool, dict]]:
        """Bulk with Elasticsearch's backpressure honoured: items answered 429 are retried with backoff
        (bulk_retries times) before the batch counts as a transient failure."""
        options: dict[str, Any] = dict(
            chunk_size=self.settings.bulk_chunk_size, max_chunk_bytes=self.settings.bulk_max_bytes,
            raise_on_error=False, raise_on_exception=True, max_retries=self.settings.bulk_retries,
            initial_backoff=self.settings.bulk_backoff_s, max_backoff=self.settings.bulk_backoff_s * 16)
        workers = min(self.settings.bulk_concurrency, -(-len(actions) // self.settings.bulk_chunk_size))
        if workers <= 1:
            return self._call("bulk", lambda: list(helpers.streaming_bulk(self.client, actions, **options)))
        slices = [actions[i::workers] for i in range(workers)]
        with ThreadPoolExecutor(workers) as pool:
            parts = pool.map(lambda part: self._call(
                "bulk", lambda: list(helpers.streaming_bulk(self.client, part, **options))), slices)
            return [item for part in parts for item in part]

    def upsert(self, docs: list[ClassifiedDocument]):
        layout = self.layout
        existing = self._locate([doc.document.id for doc in docs], source=["review", "availability"])
        first_seen = self._first_seen(docs)
        actions = []
        for doc in docs:
            body = {**to_index_document(doc), "source_first_seen": first_seen[doc.document.source]}
            found = existing.get(body["id"])
            if found is not None and (layout.retention_of(found["_index"]) != "unflagged" or not doc.flagged):
                # `doc` updates content fields only; review fields stay as analysts left them.
                actions.append({"_op_type": "update", "_index": found["_index"], "_id": body["id"], "doc": body})
                stale = found["duplicates"]
            else:
                kept = (found or {}).get("_source", {})  # fields only reviews and rechecks write
                review = kept.get("review", {"status": "unreviewed"})
                retention = "flagged" if doc.flagged or review["status"] != "unreviewed" else "unflagged"
                actions.append({"_op_type": "update", "_index": layout.write_alias(retention), "_id": body["id"],
                                "doc": body, "upsert": {**body, **kept, "review": review}})
                stale = [found["_index"], *found["duplicates"]] if found else []
            # A document newly flagged moves to the long-kept class; its old copy goes after the new one is written.
            actions.extend({"_op_type": "delete", "_index": index, "_id": body["id"]} for index in stale)
        errors: dict[str, Exception] = {}
        for ok, item in self._bulk(actions):
            operation, result = next(iter(item.items()))
            if ok or operation == "delete":  # a copy already gone is fine
                continue
            status = result.get("status", 0)
            reason = json.dumps(result.get("error"))[:1000]
            if status in (429, 502, 503, 504):
                raise TransientError(f"Elasticsearch rejected the bulk for load ({status}) after "
                                     f"{self.settings.bulk_retries} retries: {reason}")
            errors[result["_id"]] = RejectedError(
                f"Elasticsearch refused document {result['_id']} ({status}): {reason}")
        return [errors.get(doc.document.id) for doc in docs]

    @staticmethod
    def _history_document(event: ReviewEvent, published: bool = False) -> dict:
        # `sequence` orders decisions made in the same millisecond (dates sort by milliseconds) as they came.
        return {**event.model_dump(mode="json", by_alias=False, exclude={"schema_"}), "published": published,
                "recorded_at": utcnow().isoformat(), "sequence": time.time_ns()}

    def _history(self, filters: list[dict], order: str, size: int) -> list[tuple[ReviewEvent, bool]]:
        result = self._call("review history", lambda: self.client.search(
            index=self.layout.reviews_index, query={"bool": {"filter": filters}}, size=size,
            sort=[{"decided_at": order}, {"sequence": order}]))
        events = []
        for hit in result["hits"]["hits"]:
            source = hit["_source"]
            events.append((ReviewEvent.model_validate({key: source[key] for key in EVENT_FIELDS if key in source}),
                           bool(source.get("published"))))
        return events

    def append_review(self, event: ReviewEvent):
        found = self._locate([event.document_id], source=True).get(event.document_id)
        if found is None:
            raise KeyError(event.document_id)
        # The history first: refreshed at once, since the standing decision is read back from it. The same
        # event again is refused (409) and changes nothing; the review fields are set again from the history,
        # which also finishes an append that stopped between the two writes.
        self._call("append review", lambda: self.client.options(ignore_status=409).create(
            index=self.layout.reviews_index, id=event.event_id, document=self._history_document(event),
            refresh=True))
        history = self._history([{"term": {"document_id": event.document_id}}], "asc", MAX_HISTORY)
        self._set_review(found, review_fields(standing_event([e for e, _ in history])))

    def review_history(self, doc_id):
        return [history_entry(e, published) for e, published in
                self._history([{"term": {"document_id": doc_id}}], "asc", MAX_HISTORY)]

    def audit_log(self, reviewer=None, document_id=None, since=None, until=None, limit=100):
        filters: list[dict] = [{"term": {field: value}} for field, value in
                               (("reviewer", reviewer), ("document_id", document_id)) if value is not None]
        if since is not None or until is not None:
            bounds = {op: utc_text(moment) for op, moment in (("gte", since), ("lte", until)) if moment is not None}
            filters.append({"range": {"decided_at": bounds}})
        return [history_entry(e, published) for e, published in self._history(filters, "desc", limit)]

    def unpublished_reviews(self, limit):
        return [e for e, _ in self._history([{"term": {"published": False}}], "asc", limit)]

    def mark_published(self, event_ids):
        actions = [{"_op_type": "update", "_index": self.layout.reviews_index, "_id": event_id,
                    "doc": {"published": True}} for event_id in event_ids]
        if actions:  # an id not in the history fails alone (404), and is ignored
            self._call("mark published", lambda: helpers.bulk(self.client, actions, raise_on_error=False,
                                                              refresh=True))

    def _set_review(self, found: dict, review: dict):
        """Set a document's review fields where it lives (`found`: its _locate hit, with its whole _source)."""
        doc_id = found["_id"]
        if review["status"] != "unreviewed" and self.layout.retention_of(found["_index"]) == "unflagged":
            # Reviewed documents are kept as long as flagged ones: move it, then drop the old copy.
            self._call("review", lambda: self.client.index(
                index=self.layout.write_alias("flagged"), id=doc_id,
                document={**found["_source"], "review": review}))
            for index in (found["_index"], *found["duplicates"]):
                self._call("review", lambda: self.client.options(ignore_status=404).delete(index=index, id=doc_id))
            return
        # An update merges objects: every field is given, so that none of a decision no longer standing lingers.
        review = {**dict.fromkeys(REVIEW_FIELDS), **review}
        self._call("review", lambda: self.client.update(index=found["_index"], id=doc_id, doc={"review": review}))

    def to_recheck(self, checked_before, limit):
        query = {"bool": {"filter": [{"term": {"flagged": True}}],
                          "must_not": [{"term": {"availability.status": "offline"}},
                                       {"range": {"availability.checked_at": {"gte": checked_before.isoformat()}}}]}}
        result = self._call("recheck list", lambda: self.client.search(  # type: ignore[call-arg]
            index=self.alias, query=query, size=limit, _source=["id", "url", "source", "availability"]))
        return [{**{key: hit["_source"].get(key) for key in ("id", "url", "source")},
                 "availability": hit["_source"].get("availability")} for hit in result["hits"]["hits"]]

    def record_availability(self, doc_id, availability):
        found = self._locate([doc_id], source=False).get(doc_id)
        if found is None:
            raise KeyError(doc_id)
        self._call("record availability", lambda: self.client.update(
            index=found["_index"], id=doc_id, doc={"availability": availability}))

    def reviewed(self):
        query = {"bool": {"must_not": [{"term": {"review.status": "unreviewed"}}]}}
        for hit in self._call("scan reviews", lambda: list(helpers.scan(self.client, index=self.alias, query={
                "query": query, "sort": ["_doc"]}))):
            yield hit["_source"]

    def write_alert(self, alert):
        self._call("write alert", lambda: self.client.index(index=self.layout.alerts_index, id=alert["id"],
                                                            document=alert))

    def _hashlist_docs(self, writing: bool = False) -> list[dict]:
        """Every list's document; none while `vigil setup` has not made the index (a write says to run it)."""
        try:
            result = self._call("hash lists", lambda: self.client.search(
                index=self.layout.hashlists_index, query={"match_all": {}}, sort=[{"name": "asc"}], size=10_000))
        except NotFoundError:
            if writing:
                raise ConfigError(f"Elasticsearch at {self.settings.url} has no hash list indices yet: run "
                                  "`vigil setup` (role vigil_setup) first") from None
            return []
        return [hit["_source"] for hit in result["hits"]["hits"]]

    def _bump(self, name: str, body: str | None = None) -> None:
        """Write a list's metadata with its revision one higher (read, then write: operators change lists
        rarely and one at a time; the test server has no scripted updates)."""
        found = self._call("get hash list", lambda: self.client.options(ignore_status=404).get(
            index=self.layout.hashlists_index, id=name))
        if not found.get("found"):
            raise KeyError(f"no hash list {name!r}")
        doc = found["_source"]
        self._call("write hash list", lambda: self.client.index(
            index=self.layout.hashlists_index, id=name, refresh=True,
            document={"name": name, "revision": doc["revision"] + 1, "body": body or doc["body"]}))

    def save_hashlist(self, hashlist):
        self._hashlist_docs(writing=True)
        body = hashlist.model_dump_json()
        try:
            self._bump(hashlist.name, body)
        except KeyError:
            self._call("create hash list", lambda: self.client.index(
                index=self.layout.hashlists_index, id=hashlist.name, refresh=True,
                document={"name": hashlist.name, "revision": 1, "body": body}))

    def hashlists(self):
        return [HashList.model_validate_json(doc["body"]) for doc in self._hashlist_docs()]

    @staticmethod
    def _entry_id(name: str, entry_id: str) -> str:
        return hashlib.sha256(f"{name}\n{entry_id}".encode("utf-8")).hexdigest()

    def add_entries(self, name, entries):
        if self.hashlist(name) is None:
            raise KeyError(f"no hash list {name!r}")
        index = self.layout.hashlist_entries_index
        actions = [{"_op_type": "index", "_index": index, "_id": self._entry_id(name, entry.id),
                    "_source": {"list": name, "id": entry.id, "signal_type": entry.signal_type,
                                "body": entry.model_dump_json()}} for entry in entries]
        results: list[tuple[bool, dict]] = []
        try:
            results = self._call("add hash list entries", lambda: list(helpers.streaming_bulk(
                self.client, actions, chunk_size=self.settings.bulk_chunk_size, raise_on_error=False,
                raise_on_exception=False, refresh=True)))
        finally:  # what was written, even in part, reaches the stages
            self._bump(name)
        refused = [item for ok, item in results if not ok]
        if refused:
            raise RejectedError(f"Elasticsearch refused {len(refused)} hash list entries: {refused[0]}")
        return sum(item["index"].get("result") == "created" for ok, item in results if ok)

    def hashlist_entries(self, name=None):
        if not self._hashlist_docs():
            return  # no lists, or no indices before `vigil setup`
        query = {"term": {"list": name}} if name else {"match_all": {}}
        scan = iter(helpers.scan(self.client, index=self.layout.hashlist_entries_index, query={"query": query},
                                 size=self.settings.bulk_chunk_size))
        while True:  # one page at a time (a million entries do not fit in a list), each read through _call
            hit = self._call("scan hash list entries", lambda: next(scan, None))
            if hit is None:
                return
            yield hit["_source"]["list"], Entry.model_validate_json(hit["_source"]["body"])

    def count_entries(self):
        counts = {doc["name"]: 0 for doc in self._hashlist_docs()}
        if not counts:
            return counts
        result = self._call("count hash list entries", lambda: self.client.search(
            index=self.layout.hashlist_entries_index, size=0,
            aggs={"lists": {"terms": {"field": "list", "size": max(len(counts), 1)}}}))
        for bucket in result["aggregations"]["lists"]["buckets"]:
            counts[bucket["key"]] = bucket["doc_count"]
        return counts

    def remove_entry(self, name, entry_id):
        result = self._call("remove hash list entry", lambda: self.client.options(ignore_status=404).delete(
            index=self.layout.hashlist_entries_index, id=self._entry_id(name, entry_id), refresh=True))
        removed = result.get("result") == "deleted"
        if removed:
            self._bump(name)
        return removed

    def hashlists_version(self):
        docs = self._hashlist_docs()
        return f"{len(docs)}:{sum(doc['revision'] for doc in docs)}"

    def recent_alerts(self, limit=20):
        result = self._call("alerts", lambda: self.client.search(
            index=self.layout.alerts_index, sort=[{"created_at": "desc"}], size=limit))
        return [hit["_source"] for hit in result["hits"]["hits"]]

    def get(self, doc_id):
        result = self._call("search", lambda: self.client.search(
            index=self.alias, query={"ids": {"values": [doc_id]}}, size=1))
        hits = result["hits"]["hits"]
        return hits[0]["_source"] if hits else None

    def refresh(self):
        self._call("refresh", lambda: self.client.indices.refresh(index=f"{self.alias},{self.layout.alerts_index}"))

    def _search(self, query: SearchQuery) -> SearchResult:
        must: list[dict] = []
        filters: list[dict] = []
        text = query.text_query
        if text.has_words:
            must.append(bool_query(text))
        if query.label:
            filters.append({"term": {"labels": query.label}})
        if query.min_score is not None:
            field = f"scores.{query.label}" if query.label else "max_score"
            filters.append({"range": {field: {"gte": query.min_score}}})
        if query.score_below is not None:
            filters.append({"range": {"max_score": {"lt": query.score_below}}})
        for field, value in (("source", query.source), ("lang", query.lang), ("flagged", query.flagged)):
            if value is not None:
                filters.append({"term": {field: value}})
        if query.since or query.until:
            bounds: dict[str, str] = {}
            if query.since:
                bounds["gte"] = query.since.isoformat()
            if query.until:
                bounds["lte"] = query.until.isoformat()
            filters.append({"range": {"fetched_at": bounds}})
        if query.review_status:
            filters.append({"term": {"review.status": query.review_status}})
        if query.urls is not None:
            filters.append({"bool": {"should": [{"terms": {"url": list(query.urls)}},
                                                {"terms": {"canonical_url": list(query.urls)}}],
                                     "minimum_should_match": 1}})
        if query.thread_url is not None:
            filters.append({"term": {"post.thread_url": query.thread_url}})
        sort = ["_score"] if text.required else [{"max_score": "desc"}, {"fetched_at": "desc"}]
        result = self._call("search", lambda: self.client.search(
            index=self.alias, query={"bool": {"must": must or [{"match_all": {}}], "filter": filters}},
            sort=sort, size=query.limit, track_total_hits=True,
            highlight={"fields": {"text": {"number_of_fragments": 1, "fragment_size": 160}}}))
        hits = []
        for hit in result["hits"]["hits"]:
            src = hit["_source"]
            hits.append(Hit.of(src, src.get("review", {}).get("status", "unreviewed"),
                               " … ".join(hit.get("highlight", {}).get("text", []))))
        total = result["hits"]["total"]
        return SearchResult(total=total["value"] if isinstance(total, dict) else total, hits=hits)

    def close(self):
        self.client.close()
