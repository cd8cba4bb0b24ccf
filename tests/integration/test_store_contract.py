"""One contract for every store: the embedded SQLite store and Elasticsearch (osmem) answer alike."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from streams.schemas import ClassifiedDocument, Decision, PostInfo, ReviewEvent
from streams.stores import SearchQuery, open_store
from streams.stores.elastic import ElasticsearchStore
from streams.stores.sqlite import SqliteStore
from tests.factories import BASE_TIME, classified, raw_document

pytestmark = pytest.mark.integration


def open_with(store_settings, documents: dict[str, ClassifiedDocument]):
    """A store set up with these documents indexed; `store.ids` maps their names to ids."""
    store = open_store(store_settings)
    store.setup()
    assert store.upsert(list(documents.values())) == [None] * len(documents)
    store.refresh()
    store.ids = {name: doc.document.id for name, doc in documents.items()}
    return store


@pytest.fixture
def store(store_settings):
    recruit = raw_document("https://forum.example/t/1",
                           "Join the brigade now and travel to the camp. We need fighters.", title="Call to join",
                           source="forum", minutes=0)
    praise = raw_document("https://blog.example/p", "Glory to the martyrs of the movement, heroes of the attack.",
                          title="Praise", source="blog", lang="en", minutes=10)
    news = raw_document("https://news.example/report",
                        "Police said the attack killed three people; the group is banned.", title="Attack report",
                        source="news", minutes=20)
    russian = raw_document("https://ru.example/a", "Вступайте в наши ряды, братья, нам нужны бойцы.",
                           title="Призыв", source="forum", lang="ru", minutes=30)
    store = open_with(store_settings, {
        "recruit": classified(recruit, {"recruitment": 0.97, "propaganda": 0.40}),
        "praise": classified(praise, {"recruitment": 0.10, "propaganda": 0.88}),
        "news": classified(news, {"recruitment": 0.05, "propaganda": 0.12}),
        "russian": classified(russian, {"recruitment": 0.71, "propaganda": 0.30}),
    })
    yield store
    store.close()


def ids(result):
    return {hit.id for hit in result.hits}


def test_full_text_and_filters(store):
    i = store.ids
    assert ids(store.search(SearchQuery(text="attack"))) == {i["praise"], i["news"]}
    assert ids(store.search(SearchQuery(text="attack", flagged=True))) == {i["praise"]}
    assert ids(store.search(SearchQuery(text="travel camp"))) == {i["recruit"]}
    assert ids(store.search(SearchQuery(flagged=True))) == {i["recruit"], i["praise"], i["russian"]}
    assert ids(store.search(SearchQuery(flagged=False))) == {i["news"]}
    assert ids(store.search(SearchQuery(label="recruitment"))) == {i["recruit"], i["russian"]}
    assert ids(store.search(SearchQuery(label="recruitment", min_score=0.9))) == {i["recruit"]}
    assert ids(store.search(SearchQuery(min_score=0.8))) == {i["recruit"], i["praise"]}
    assert ids(store.search(SearchQuery(source="forum"))) == {i["recruit"], i["russian"]}
    assert ids(store.search(SearchQuery(lang="ru"))) == {i["russian"]}
    assert ids(store.search(SearchQuery(since=BASE_TIME + timedelta(minutes=5),
                                        until=BASE_TIME + timedelta(minutes=25)))) == {i["praise"], i["news"]}
    assert ids(store.search(SearchQuery(text="бойцы"))) == {i["russian"]}
    assert store.search(SearchQuery()).total == 4


def test_hits_carry_what_analysts_need(store):
    hit = store.search(SearchQuery(text="brigade")).hits[0]
    assert hit.url == "https://forum.example/t/1" and hit.title == "Call to join"
    assert hit.flagged and hit.labels == ["recruitment"] and hit.scores["recruitment"] == pytest.approx(0.97)
    assert hit.review_status == "unreviewed" and hit.model_version == "test-1"
    assert hit.evidence and hit.evidence[0]["label"] == "recruitment"


@pytest.fixture
def search_store(store_settings):
    """Documents for the query language: English, Russian, Arabic, Chinese, and FTS/Lucene syntax as text."""
    texts = {
        "report": ("Market report", "News: police said the attack on the market killed three people."),
        "recruit": ("Call to join", "Join the brigade now and travel to the camp. We need fighters."),
        "praise": ("Praise", "Glory to the martyrs of the campaign, heroes of the attack."),
        "meeting": ("Meeting notes", "Meet at 10:30 near the bridge, AND NOT at the camp."),
        "russian": ("Призыв", "Вступайте в наши ряды, братья, нам нужны бойцы."),
        "arabic": ("دعوة", "انضموا إلينا في المعسكر الآن"),
        "chinese": ("号召", "加入我们的队伍，成为战士。"),
    }
    store = open_with(store_settings, {
        name: classified(raw_document(f"https://site.example/{name}", text, title=title, minutes=n),
                         {"recruitment": 0.1 * n, "propaganda": 0.05})
        for n, (name, (title, text)) in enumerate(texts.items())})
    yield store
    store.close()


EVERY = "every document"  # queries with no words filter nothing, like no query

QUERY_LANGUAGE = [
    # words are ANDed
    ("camp travel", {"recruit"}),
    ("attack", {"report", "praise"}),
    # -word leaves out documents with that word, alone or beside others
    ("-news", {"recruit", "praise", "meeting", "russian", "arabic", "chinese"}),
    ("attack -news", {"praise"}),
    ("-camp -news -бойцы", {"praise", "arabic", "chinese"}),
    # | is OR, binding tighter than the space
    ("brigade | martyrs", {"recruit", "praise"}),
    ("attack market | martyrs", {"report", "praise"}),
    ("camp | market -brigade", {"meeting", "report"}),
    # "a phrase": the words together, in this order
    ('"travel to the camp"', {"recruit"}),
    ('"camp to travel"', set()),
    ('"heroes of the attack" | brigade -police', {"praise", "recruit"}),
    ('-"the camp"', {"report", "praise", "russian", "arabic", "chinese"}),
    # word*: words starting with it
    ("camp", {"recruit", "meeting"}),
    ("camp*", {"recruit", "meeting", "praise"}),
    ('camp* -"the camp"', {"praise"}),
    # non-Latin scripts
    ("бойцы", {"russian"}),
    ("المعسكر", {"arabic"}),
    ("成为战士", {"chinese"}),
    ("бойцы | المعسكر | 成为战士", {"russian", "arabic", "chinese"}),
    ("-бойцы -المعسكر -成为战士 -camp -attack", set()),
    # FTS5 and Lucene syntax in the input is plain text
    ("AND", {"recruit", "meeting"}),
    ("NOT camp", {"meeting"}),
    ("camp NEAR bridge", {"meeting"}),
    ("NEAR(bridge camp)", set()),  # punctuation joins: the phrase "near bridge", in no document
    ("10:30", {"meeting"}),
    ("camp:", {"recruit", "meeting"}),
    ("title:camp", set()),  # not a field filter
    ("^camp", {"recruit", "meeting"}),
    ("camp^2", set()),  # not a boost: the words camp 2
    ("attack~ market", {"report"}),
    ("+brigade", {"recruit"}),
    ("(brigade)", {"recruit"}),
    # lenient with what is left: an unclosed quote runs to the end; a stray | or - is ignored
    ('"travel to the', {"recruit"}),
    ('brigade"', {"recruit"}),
    ("camp |", {"recruit", "meeting"}),
    ("| camp", {"recruit", "meeting"}),
    ("camp - travel", {"recruit"}),
    # no words: no text filter
    ("!!!", EVERY), ("-", EVERY), ("|", EVERY), ('"', EVERY), ("*", EVERY), ("- | * ^ :", EVERY),
]


@pytest.mark.parametrize(("text", "expected"), QUERY_LANGUAGE, ids=[text for text, _ in QUERY_LANGUAGE])
def test_both_stores_answer_the_query_language_alike(search_store, text, expected):
    names = set(search_store.ids) if expected == EVERY else expected
    result = search_store.search(SearchQuery(text=text, limit=50))
    assert ids(result) == {search_store.ids[name] for name in names}
    assert result.total == len(names)


# Operators and special characters of FTS5, Lucene and simple_query_string, and other odd input.
SYNTAX_AS_TEXT = [
    '"', '""', '"""', 'a"b', "AND", "OR", "NOT", "a AND", "OR b", "NOT x", "NEAR(a b)", "NEAR(a b, 2)", "a NEAR/2 b",
    "*", "a*", "*a", "a**", "^a", "a^2", "title:a", "{title text}: a", "-title:a", "a:", ":", "(a", "a)", "()",
    "a + b", "+a", "~a", "a~2", "a\\b", "'", "a'", "@#$%", "-", "--", "- -", "|", "||", "a |", "| a", "-|-", "-*",
    '-"', '"-a"', "\u0000", "a\u200bb", "💥", "a💥b", "_", "a_b", "/a/", "a && b", "a || b", "!a",
]


def test_syntax_in_a_query_is_text(store_settings):
    """Never a syntax error; a query finds the document that holds its text, unless it excludes that text."""
    documents = {text: classified(raw_document(f"https://site.example/{n}", f"plain words {text} more words"),
                                  {"recruitment": 0.9}) for n, text in enumerate(SYNTAX_AS_TEXT)}
    store = open_with(store_settings, documents)
    try:
        for text, doc_id in store.ids.items():
            found = doc_id in ids(store.search(SearchQuery(text=text, limit=len(documents))))
            assert found == (text != "-title:a"), text  # the only one that excludes: its document says title:a
    finally:
        store.close()


def test_queries_with_nothing_to_match_rank_like_no_query(search_store):
    """Exclusions alone, or no words at all, give relevance nothing to go by: highest score first."""
    unranked = [hit.id for hit in search_store.search(SearchQuery(limit=50)).hits]
    assert [hit.id for hit in search_store.search(SearchQuery(text="!!!", limit=50)).hits] == unranked
    assert [hit.id for hit in search_store.search(SearchQuery(text="-news", limit=50)).hits] == [
        doc_id for doc_id in unranked if doc_id != search_store.ids["report"]]


def test_reindexing_never_duplicates_or_overwrites_reviews(store):
    doc_id = store.ids["recruit"]
    store.apply_review(ReviewEvent(document_id=doc_id, reviewer="analyst-7", decision=Decision.confirmed, note="clear"))
    store.refresh()
    assert ids(store.search(SearchQuery(review_status="confirmed"))) == {doc_id}
    again = raw_document("https://forum.example/t/1", "Join the brigade now and travel to the camp. We need fighters.",
                         title="Call to join", source="forum")
    assert store.upsert([classified(again, {"recruitment": 0.95, "propaganda": 0.41}, version="test-2")]) == [None]
    store.refresh()
    assert store.search(SearchQuery()).total == 4
    indexed = store.get(doc_id)
    assert indexed["model_version"] == "test-2"
    assert indexed["review"]["status"] == "confirmed" and indexed["review"]["reviewer"] == "analyst-7"


def test_review_of_unknown_document_is_an_error(store):
    with pytest.raises(KeyError):
        store.apply_review(ReviewEvent(document_id="0" * 32, reviewer="a", decision=Decision.dismissed))


def decide(store, name: str, decision: Decision, minutes: int, **fields) -> ReviewEvent:
    """Append a decision on one of the fixture's documents, `minutes` after the documents were fetched."""
    event = ReviewEvent(document_id=store.ids[name], reviewer=fields.pop("reviewer", "analyst-1"), decision=decision,
                        decided_at=BASE_TIME + timedelta(hours=1, minutes=minutes), **fields)
    store.append_review(event)
    return event


def test_history_keeps_every_decision_and_the_document_shows_the_latest(store):
    doc_id = store.ids["recruit"]
    first = decide(store, "recruit", Decision.escalated, 0, reason="escalate-unsure-language", note="dialect?")
    second = decide(store, "recruit", Decision.confirmed, 5, reviewer="analyst-2", reason="recruitment-call",
                    corrected_labels=["recruitment"], reviewer_source="console")
    store.refresh()
    history = store.review_history(doc_id)
    assert [entry["event_id"] for entry in history] == [first.event_id, second.event_id]
    assert history[0] == {"event_id": first.event_id, "document_id": doc_id, "reviewer": "analyst-1",
                          "reviewer_source": "cli", "decision": "escalated", "labels": None,
                          "reason": "escalate-unsure-language", "note": "dialect?",
                          "decided_at": first.decided_at.isoformat(), "published": False}
    assert history[1]["labels"] == ["recruitment"] and history[1]["reviewer_source"] == "console"
    review = store.get(doc_id)["review"]
    assert review["status"] == "confirmed" and review["reviewer"] == "analyst-2"
    assert review["reason"] == "recruitment-call" and review["event_id"] == second.event_id
    assert ids(store.search(SearchQuery(review_status="confirmed"))) == {doc_id}
    assert store.review_history(store.ids["news"]) == []


def test_a_retraction_restores_the_decision_before_it(store):
    doc_id = store.ids["praise"]
    confirmed = decide(store, "praise", Decision.confirmed, 0, reason="propaganda-glorification")
    decide(store, "praise", Decision.escalated, 1, reason="escalate-imminent-threat")
    decide(store, "praise", Decision.retracted, 2, note="escalated the wrong page")
    store.refresh()
    review = store.get(doc_id)["review"]
    assert review["status"] == "confirmed" and review["event_id"] == confirmed.event_id
    assert [entry["decision"] for entry in store.review_history(doc_id)] == ["confirmed", "escalated", "retracted"]
    decide(store, "praise", Decision.retracted, 3)  # and the only one left: unreviewed again
    store.refresh()
    assert store.get(doc_id)["review"]["status"] == "unreviewed"
    assert doc_id not in {doc["id"] for doc in store.reviewed()}
    assert doc_id in ids(store.search(SearchQuery(review_status="unreviewed")))
    assert len(store.review_history(doc_id)) == 4  # undo is a decision too, never a deletion


def test_appending_the_same_event_again_changes_nothing(store):
    doc_id = store.ids["news"]
    dismissed = decide(store, "news", Decision.dismissed, 0, reason="not-violating-news")
    later = decide(store, "news", Decision.confirmed, 1, reason="propaganda-glorification")
    store.append_review(dismissed)  # redelivered
    store.append_review(later)
    store.refresh()
    assert [entry["event_id"] for entry in store.review_history(doc_id)] == [dismissed.event_id, later.event_id]
    assert store.get(doc_id)["review"]["status"] == "confirmed"


def test_audit_log_lists_decisions_newest_first(store):
    a = decide(store, "recruit", Decision.confirmed, 0, reason="recruitment-call")
    b = decide(store, "news", Decision.dismissed, 10, reviewer="analyst-2", reason="not-violating-news")
    c = decide(store, "recruit", Decision.retracted, 20, reviewer="analyst-2")
    store.refresh()
    assert [entry["event_id"] for entry in store.audit_log()] == [c.event_id, b.event_id, a.event_id]
    assert [entry["event_id"] for entry in store.audit_log(reviewer="analyst-2")] == [c.event_id, b.event_id]
    assert [entry["event_id"] for entry in store.audit_log(document_id=store.ids["recruit"])] == [
        c.event_id, a.event_id]
    window = store.audit_log(since=b.decided_at, until=c.decided_at - timedelta(seconds=1))
    assert [entry["event_id"] for entry in window] == [b.event_id]
    assert [entry["event_id"] for entry in store.audit_log(limit=1)] == [c.event_id]
    assert store.audit_log()[0]["document_id"] == store.ids["recruit"]


def test_the_outbox_holds_decisions_until_they_are_marked_published(store):
    later = decide(store, "news", Decision.dismissed, 10, reason="not-violating-news")
    earlier = decide(store, "recruit", Decision.confirmed, 0, reason="recruitment-call")
    store.refresh()
    assert store.unpublished_reviews(10) == [earlier, later]  # in decided_at order, whole events
    assert store.unpublished_reviews(1) == [earlier]
    store.mark_published([earlier.event_id])
    store.refresh()
    assert store.unpublished_reviews(10) == [later]
    assert store.review_history(store.ids["recruit"])[0]["published"] is True
    store.mark_published([later.event_id, "not-an-event"])
    store.refresh()
    assert store.unpublished_reviews(10) == []


def test_decisions_made_before_the_history_existed_start_it(store):
    """A store written by an older Vigil kept only each document's latest decision: upgrading makes it the
    first event of the document's history (published then), so that undo and re-review work on it."""
    doc_id = store.ids["recruit"]
    legacy = {"status": "confirmed", "reviewer": "analyst-7", "decided_at": "2026-10-01T09:00:00+00:00",
              "corrected_labels": None, "note": "old"}
    if store.name == "embedded":
        store._conn.execute("UPDATE documents SET review = ? WHERE id = ?", (json.dumps(legacy), doc_id))
        store._conn.execute("PRAGMA user_version = 0")
        store.close()
        upgraded = SqliteStore(store.path)
    else:
        store.client.update(index=store._locate([doc_id], source=False)[doc_id]["_index"], id=doc_id,
                            doc={"review": legacy}, refresh=True)
        store.client.indices.delete(index=store.layout.reviews_index)
        upgraded = ElasticsearchStore(store.settings)
        upgraded.setup()
        upgraded.setup()  # once only
    try:
        history = upgraded.review_history(doc_id)
        assert [(e["decision"], e["reviewer"], e["note"], e["published"]) for e in history] == [
            ("confirmed", "analyst-7", "old", True)]
        assert upgraded.unpublished_reviews(10) == []
        upgraded.append_review(ReviewEvent(document_id=doc_id, reviewer="a", decision=Decision.retracted))
        upgraded.refresh()
        assert upgraded.get(doc_id)["review"]["status"] == "unreviewed"
    finally:
        upgraded.close()


def test_append_review_of_unknown_document_is_an_error(store):
    with pytest.raises(KeyError):
        store.append_review(ReviewEvent(document_id="0" * 32, reviewer="a", decision=Decision.confirmed))
    assert store.unpublished_reviews(10) == []


def test_alerts_are_stored_once_per_id_newest_first(store):
    older = {"id": "a1", "kind": "source", "key": "forum", "window_start": "2026-11-01T12:00:00+00:00",
             "window_end": "2026-11-01T13:00:00+00:00", "documents": 50, "flags": 20, "flag_rate": 0.4,
             "baseline_rate": 0.02, "ratio": 20.0, "message": "spike", "created_at": "2026-11-01T12:10:00+00:00"}
    newer = {**older, "id": "a2", "key": "blog", "created_at": "2026-11-01T12:20:00+00:00"}
    for alert in (older, newer, {**older, "flags": 25}):
        store.write_alert(alert)
    store.refresh()
    alerts = store.recent_alerts()
    assert [a["id"] for a in alerts] == ["a2", "a1"] and alerts[1]["flags"] == 25


def test_reviewed_documents_export_as_training_data_with_a_frozen_set(store, tmp_path):
    from classifiers.training.feedback import export_reviews, is_frozen

    i = store.ids
    store.apply_review(ReviewEvent(document_id=i["recruit"], reviewer="a", decision=Decision.confirmed))
    store.apply_review(ReviewEvent(document_id=i["news"], reviewer="a", decision=Decision.dismissed))
    store.apply_review(ReviewEvent(document_id=i["praise"], reviewer="a", decision=Decision.escalated))
    store.apply_review(ReviewEvent(document_id=i["russian"], reviewer="b", decision=Decision.escalated,
                                   corrected_labels=["recruitment", "propaganda"]))
    store.refresh()
    assert {doc["id"] for doc in store.reviewed()} == {i["recruit"], i["news"], i["praise"], i["russian"]}
    counts = export_reviews(store, tmp_path / "out", frozen_share=0.5)
    rows = [json.loads(line) for name in ("train.jsonl", "frozen-eval.jsonl")
            for line in (tmp_path / "out" / name).read_text().splitlines()]
    by_id = {row["id"]: row for row in rows}
    assert counts["left_out_undecided"] == 1 and i["praise"] not in by_id  # escalated, nobody decided yet
    assert by_id[i["recruit"]]["labels"] == ["recruitment"] and by_id[i["news"]]["labels"] == []
    assert by_id[i["russian"]]["labels"] == ["propaganda", "recruitment"] and by_id[i["russian"]]["lang"] == "ru"
    assert all(row["frozen"] == is_frozen(row["id"], 0.5) for row in rows)  # the id decides, every time


def test_uncertain_documents_come_first(store):
    hits = store.search(SearchQuery(review_status="unreviewed", min_score=0.2, score_below=0.9, limit=10)).hits
    assert {hit.id for hit in hits} == {store.ids["praise"], store.ids["russian"]}  # 0.97 and 0.12 are outside
    assert sorted(hits, key=lambda hit: hit.margin)[0].id == store.ids["russian"]  # 0.71 is nearest its 0.5


def test_recheck_records_when_a_flagged_page_went_offline(store):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from crawlers.recheck import Rechecker, recheck_flagged
    from streams.schemas import utcnow

    gone = {"/gone"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            status = 404 if self.path in gone else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        online = raw_document(f"{base}/up", "Join the brigade, the camp awaits.", source="live")
        offline = raw_document(f"{base}/gone", "Glory to the martyrs of the attack.", source="live")
        store.upsert([classified(online, {"recruitment": 0.9}), classified(offline, {"propaganda": 0.9})])
        store.refresh()
        rechecker = Rechecker("VigilTest/1")
        counts = recheck_flagged(store, rechecker, utcnow(), 100, allow_private={"live"})
        store.refresh()
        # The fixture's other flagged pages are on hosts that do not resolve: offline too.
        assert counts["online"] == 1 and counts["offline"] == counts["newly_offline"] == 4
        went = store.get(offline.id)["availability"]
        assert went["status"] == "offline" and went["http_status"] == 404 and went["offline_since"]
        assert store.get(online.id)["availability"]["status"] == "online"
        # Offline pages are not checked again; a refused private address is never fetched.
        assert offline.id not in {d["id"] for d in store.to_recheck(utcnow(), 100)}
        assert rechecker.check(f"{base}/up").status == "unknown"  # private address, source not allowed
    finally:
        server.shutdown()
        server.server_close()


def test_versions_of_a_page_and_posts_of_a_thread_are_found_by_url(store_settings):
    first = raw_document("https://site.example/page?utm=1", "The first text of the page.", minutes=0)
    first = first.model_copy(update={"canonical_url": "https://site.example/page"})
    second = raw_document("https://site.example/page", "The second text of the page.", minutes=5)
    other = raw_document("https://site.example/other", "Another page.", minutes=6)
    thread = "https://forum.example/t/7"
    posts = [raw_document(f"{thread}#p{n}", f"Post number {n} in the thread.", minutes=n).model_copy(
        update={"post": PostInfo(post_id=str(n), thread_url=thread)}) for n in range(3)]
    elsewhere = raw_document("https://forum.example/t/8#p1", "A post in another thread.").model_copy(
        update={"post": PostInfo(post_id="1", thread_url="https://forum.example/t/8")})
    docs = {"first": first, "second": second, "other": other, "elsewhere": elsewhere,
            **{f"post{n}": post for n, post in enumerate(posts)}}
    store = open_with(store_settings, {name: classified(raw, {"propaganda": 0.2}) for name, raw in docs.items()})
    try:
        i = store.ids
        by_url = store.search(SearchQuery(urls=("https://site.example/page",), limit=50))
        assert ids(by_url) == {i["first"], i["second"]}  # one by its canonical URL, one by its URL
        assert {hit.canonical_url for hit in by_url.hits} == {"https://site.example/page"}
        assert ids(store.search(SearchQuery(urls=("https://site.example/other", "https://nowhere.example/"),
                                            limit=50))) == {i["other"]}
        assert ids(store.search(SearchQuery(thread_url=thread, limit=50))) == {i[f"post{n}"] for n in range(3)}
    finally:
        store.close()


def test_hash_lists_keep_their_entries_and_say_when_they_changed(store):
    from streams.hashlists.banks import Entry, HashList

    assert store.hashlists() == [] and store.count_entries() == {}
    empty = store.hashlists_version()
    gifct = HashList(name="gifct-sample", source="GIFCT hash-sharing database", terms="members only",
                     default_label="propaganda")
    store.save_hashlist(gifct)
    created = store.hashlists_version()
    assert created != empty and store.hashlists() == [gifct] and store.hashlist("gifct-sample") == gifct
    entries = [Entry(id=f"e{n}", signal_type="md5", value=f"{n:032x}", note=f"poster {n}") for n in range(3)]
    assert store.add_entries("gifct-sample", entries) == 3
    assert store.add_entries("gifct-sample", [entries[0].model_copy(update={"label": "recruitment"})]) == 0
    added = store.hashlists_version()
    assert added != created
    found = dict((entry.id, entry) for _, entry in store.hashlist_entries("gifct-sample"))
    assert set(found) == {"e0", "e1", "e2"} and found["e0"].label == "recruitment"
    assert store.count_entries() == {"gifct-sample": 3}
    assert store.remove_entry("gifct-sample", "e1") and not store.remove_entry("gifct-sample", "e1")
    assert store.hashlists_version() != added
    assert {entry.id for _, entry in store.hashlist_entries()} == {"e0", "e2"}
    renamed = gifct.model_copy(update={"terms": "members only; no re-sharing"})
    store.save_hashlist(renamed)
    assert store.hashlists() == [renamed] and store.count_entries() == {"gifct-sample": 2}
    with pytest.raises(KeyError, match="no hash list"):
        store.add_entries("unknown", entries)
