"""What `vigil setup` installs into Elasticsearch, retention classes, rollover safety and backpressure,
against the Elasticsearch-API test server (or a real cluster given by VIGIL_TEST_ELASTICSEARCH_URL)."""
from __future__ import annotations

import json
import shutil

import pytest

from streams.errors import TransientError
from streams.schemas import Decision, ReviewEvent
from streams.stores import SearchQuery
from streams.stores.elastic import ElasticsearchStore
from tests.busy_proxy import busy_proxy
from tests.factories import classified, raw_document

pytestmark = pytest.mark.integration


@pytest.fixture
def es_settings(settings, elasticsearch_url):
    settings.elasticsearch.url = elasticsearch_url
    settings.elasticsearch.bulk_backoff_s = 0.01
    return settings.elasticsearch


@pytest.fixture
def store(es_settings):
    store = ElasticsearchStore(es_settings)
    store.setup()
    yield store
    store.close()


def indices_of(store, doc_id) -> list[str]:
    result = store.client.search(index=store.alias, query={"ids": {"values": [doc_id]}}, _source=False)
    return sorted(hit["_index"] for hit in result["hits"]["hits"])


def test_setup_installs_templates_aliases_and_is_idempotent(store):
    alias, client = store.alias, store.client
    store.setup()  # a second run changes nothing and fails on nothing
    components = {t["name"] for t in client.cluster.get_component_template(name=f"{alias}-*")["component_templates"]}
    assert components == {f"{alias}-analysis", f"{alias}-documents", f"{alias}-review"}
    templates = {t["name"]: t["index_template"] for t in client.indices.get_index_template(name=f"{alias}-*")
                 ["index_templates"]}
    assert set(templates) == {f"{alias}-flagged", f"{alias}-unflagged", f"{alias}-alerts", f"{alias}-reviews",
                              f"{alias}-hashlists", f"{alias}-hashlist-entries"}
    parts = [f"{alias}-analysis", f"{alias}-documents", f"{alias}-review"]
    assert templates[f"{alias}-flagged"]["composed_of"] == parts
    aliases = client.indices.get_alias(index=f"{alias}-*")
    assert aliases[f"{alias}-flagged-000001"]["aliases"] == {alias: {}, f"{alias}-flagged": {"is_write_index": True}}
    assert aliases[f"{alias}-unflagged-000001"]["aliases"][alias] == {}
    assert client.indices.exists(index=f"{alias}-alerts") and client.indices.exists(index=f"{alias}-reviews")
    for index in (f"{alias}-hashlists", f"{alias}-hashlist-entries"):  # outside the alias analysts search
        assert client.indices.exists(index=index) and not aliases.get(index, {}).get("aliases")


def test_setup_upgrades_existing_indices_in_place(es_settings, tmp_path):
    ElasticsearchStore(es_settings).setup()
    upgraded = tmp_path / "elasticsearch"
    shutil.copytree(ElasticsearchStore(es_settings).layout.directory, upgraded)
    documents = upgraded / "component-templates" / "vigil-documents.json"
    body = json.loads(documents.read_text())
    body["template"]["mappings"]["properties"]["campaign"] = {"type": "keyword"}
    documents.write_text(json.dumps(body))
    es_settings.templates_dir = upgraded
    store = ElasticsearchStore(es_settings)
    store.setup()
    mapping = store.client.indices.get_mapping(index=f"{store.alias}-unflagged-000001")
    assert mapping[f"{store.alias}-unflagged-000001"]["mappings"]["properties"]["campaign"] == {"type": "keyword"}


def test_flagged_and_unflagged_documents_live_in_their_retention_classes(store):
    alias = store.alias
    news = raw_document("https://news.example/a", "The court heard the case on Monday.", source="news")
    recruit = raw_document("https://forum.example/t", "Join the brigade and travel to the camp.", source="forum")
    written = store.upsert([classified(news, {"recruitment": 0.1}), classified(recruit, {"recruitment": 0.9})])
    assert written == [None] * 2
    store.refresh()
    assert indices_of(store, news.id) == [f"{alias}-unflagged-000001"]
    assert indices_of(store, recruit.id) == [f"{alias}-flagged-000001"]

    # A newer model flags the news page: it moves to the long-kept class, one copy only.
    assert store.upsert([classified(news, {"recruitment": 0.8}, version="test-2")]) == [None]
    store.refresh()
    assert indices_of(store, news.id) == [f"{alias}-flagged-000001"]
    assert store.get(news.id)["model_version"] == "test-2"

    # Flagged stays flagged-class even when a later model clears it (analysts may have seen it).
    assert store.upsert([classified(recruit, {"recruitment": 0.1}, version="test-2")]) == [None]
    store.refresh()
    assert indices_of(store, recruit.id) == [f"{alias}-flagged-000001"]


def test_a_reviewed_unflagged_document_is_kept_with_its_review(store):
    alias = store.alias
    missed = raw_document("https://blog.example/m", "A call the model missed.", source="blog")
    store.upsert([classified(missed, {"recruitment": 0.2})])
    store.refresh()
    store.apply_review(ReviewEvent(document_id=missed.id, reviewer="analyst-2", decision=Decision.escalated,
                                   corrected_labels=["recruitment"], note="model missed it"))
    store.refresh()
    assert indices_of(store, missed.id) == [f"{alias}-flagged-000001"]
    kept = store.get(missed.id)
    assert kept["review"]["status"] == "escalated" and kept["review"]["corrected_labels"] == ["recruitment"]
    assert kept["text"] == "A call the model missed."
    with pytest.raises(KeyError):
        store.apply_review(ReviewEvent(document_id="0" * 32, reviewer="a", decision=Decision.dismissed))


def test_after_rollover_updates_and_reviews_reach_the_older_index(store):
    alias, client = store.alias, store.client
    doc = raw_document("https://forum.example/old", "Join us, brothers, the camp awaits.", source="forum")
    store.upsert([classified(doc, {"recruitment": 0.9})])
    # What ILM's rollover does: a new index takes over the write alias.
    client.indices.create(index=f"{alias}-flagged-000002")
    client.indices.update_aliases(actions=[
        {"add": {"index": f"{alias}-flagged-000001", "alias": f"{alias}-flagged", "is_write_index": False}},
        {"add": {"index": f"{alias}-flagged-000002", "alias": f"{alias}-flagged", "is_write_index": True}}])
    store.refresh()
    store.apply_review(ReviewEvent(document_id=doc.id, reviewer="analyst-1", decision=Decision.confirmed))
    assert store.upsert([classified(doc, {"recruitment": 0.95}, version="test-2")]) == [None]
    store.refresh()
    assert indices_of(store, doc.id) == [f"{alias}-flagged-000001"]  # updated where it was, not duplicated
    indexed = store.get(doc.id)
    assert indexed["review"]["status"] == "confirmed" and indexed["model_version"] == "test-2"
    new = raw_document("https://forum.example/new", "Travel to the camp and join.", source="forum")
    store.upsert([classified(new, {"recruitment": 0.9})])
    store.refresh()
    assert indices_of(store, new.id) == [f"{alias}-flagged-000002"]  # new documents go to the new index


def test_documents_record_domain_and_when_their_source_was_first_seen(store):
    first = raw_document("https://www.news.example/a", "first", source="fresh", minutes=0)
    later = raw_document("https://www.news.example/b", "later", source="fresh", minutes=30)
    store.upsert([classified(first, {"recruitment": 0.1})])
    store.refresh()
    again = ElasticsearchStore(store.settings)  # a restarted indexer looks the source up in the index
    again.upsert([classified(later, {"recruitment": 0.1})])
    store.refresh()
    assert store.get(later.id)["domain"] == "www.news.example"
    assert store.get(later.id)["source_first_seen"].startswith(first.fetched_at.isoformat()[:19])
    again.close()


def test_per_language_analyzers_are_installed(store):
    index = f"{store.alias}-flagged-000001"
    persian = store.client.indices.analyze(index=index, analyzer="vigil_persian", text="می‌خواهم کتاب‌ها را ۱۲۳")
    tokens = [t["token"] for t in persian["tokens"]]
    assert "كتاب" in tokens and "123" in tokens  # zero-width non-joiner split, letters and digits normalised
    assert "را" not in tokens  # Persian stop word
    english = store.client.indices.analyze(index=index, field="text.en", text="Recruiters are recruiting")
    assert [t["token"] for t in english["tokens"]] == ["recruit", "recruit"]
    russian = store.client.indices.analyze(index=index, field="text.ru", text="бойцами бойцы")
    assert len({t["token"] for t in russian["tokens"]}) == 1  # one stem for both forms


def test_lifecycle_policies_on_a_cluster_with_ilm(store):
    if not store.has_lifecycle_management():
        pytest.skip("the test server has no ILM; set VIGIL_TEST_ELASTICSEARCH_URL to a real Elasticsearch to run this")
    policies = store.client.ilm.get_lifecycle(name=f"{store.alias}-*")
    flagged, unflagged = policies[f"{store.alias}-flagged"], policies[f"{store.alias}-unflagged"]
    days = lambda policy: int(policy["policy"]["phases"]["delete"]["min_age"].rstrip("d"))  # noqa: E731
    assert days(flagged) > days(unflagged)
    settings = store.client.indices.get_settings(index=f"{store.alias}-unflagged-000001")
    lifecycle = settings[f"{store.alias}-unflagged-000001"]["settings"]["index"]["lifecycle"]
    assert lifecycle == {"name": f"{store.alias}-unflagged", "rollover_alias": f"{store.alias}-unflagged"}


def test_bulk_backpressure_429_is_retried_then_surfaces_as_transient(es_settings):
    docs = [classified(raw_document(f"https://e.org/{i}", f"text {i}"), {"recruitment": 0.2}) for i in range(5)]
    ElasticsearchStore(es_settings).setup()
    with busy_proxy(es_settings.url, reject_bulks=2) as (url, state):
        store = ElasticsearchStore(es_settings.model_copy(update={"url": url}))
        assert store.upsert(docs) == [None] * 5  # two 429s absorbed by the retries
        assert state["rejected"] == 2 and state["bulks"] == 3
    with busy_proxy(es_settings.url, reject_bulks=10) as (url, state):
        store = ElasticsearchStore(es_settings.model_copy(update={"url": url, "bulk_retries": 2}))
        with pytest.raises(TransientError, match="429"):
            store.upsert(docs)  # the stage runner backs off and retries the batch; nothing is skipped
        assert state["bulks"] == 3
    store = ElasticsearchStore(es_settings)
    store.refresh()
    assert store.search(SearchQuery()).total == 5


def test_bulk_concurrency_splits_the_work(es_settings):
    es_settings.bulk_chunk_size, es_settings.bulk_concurrency = 10, 3
    store = ElasticsearchStore(es_settings)
    store.setup()
    docs = [classified(raw_document(f"https://e.org/c{i}", f"text {i}"), {"recruitment": 0.6 * (i % 2)})
            for i in range(45)]
    assert store.upsert(docs) == [None] * 45
    store.refresh()
    assert store.search(SearchQuery()).total == 45 and store.search(SearchQuery(flagged=True)).total == 22
