"""The review console's logic without a browser: accounts, sessions, CSRF, login throttling, claims, queues,
evidence highlighting, operator figures, and the app's refusals (through Starlette's TestClient)."""
from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from argon2 import PasswordHasher
from starlette.routing import Route
from starlette.testclient import TestClient

from streams.config import VigilSettings
from streams.stores import open_store
from tests.console.helpers import flagged
from vigil.cli import main
from vigil.console.auth import AccountError, Accounts, LoginThrottle, Sessions, User
from vigil.console.claims import Claims, SeenToday
from vigil.console.db import ConsoleDB, console_db_path
from vigil.console.documents import other_versions, segments, thread_posts
from vigil.console.queues import QueueFilter, next_item, queue_counts, queue_view
from vigil.console.reports import decisions_per_day, precision_by_model

PASSWORD = "correct horse battery staple"
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path):
    database = ConsoleDB(tmp_path / "console.sqlite")
    yield database
    database.close()


def test_accounts_hash_passwords_and_check_names_roles_and_length(db):
    accounts = Accounts(db, FAST_HASHER)
    accounts.add("alice", "analyst", PASSWORD)
    stored = db.read("SELECT password_hash FROM users")[0][0]
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert accounts.verify("alice", PASSWORD) == User("alice", "analyst", False, accounts.get("alice").created_at)
    assert accounts.verify("alice", "wrong password!") is None
    assert accounts.verify("nobody", PASSWORD) is None
    with pytest.raises(AccountError, match="exists already"):
        accounts.add("alice", "analyst", PASSWORD)
    with pytest.raises(AccountError, match="role must be one of analyst, operator, admin"):
        accounts.add("bob", "root", PASSWORD)
    with pytest.raises(AccountError, match="at least 10 characters"):
        accounts.add("bob", "analyst", "short")
    with pytest.raises(AccountError, match="not a usable account name"):
        accounts.add("bob smith", "analyst", PASSWORD)
    assert User("o", "operator").has_role("analyst") and not User("a", "analyst").has_role("operator")


def test_sessions_expire_and_end_when_the_account_is_disabled(db):
    clock = Clock()
    accounts = Accounts(db, FAST_HASHER)
    alice = accounts.add("alice", "analyst", PASSWORD)
    sessions = Sessions(db, b"k" * 32, lifetime_s=3600, clock=clock)
    session_id = sessions.create(alice)
    assert session_id not in str(db.read("SELECT * FROM sessions"))  # only a keyed hash is kept
    session = sessions.get(session_id)
    assert session.user.name == "alice" and len(session.csrf) >= 32
    assert sessions.get(session_id + "x") is None and sessions.get(None) is None
    clock.now += 3601
    assert sessions.get(session_id) is None
    again = sessions.create(alice)
    accounts.disable("alice")
    assert sessions.get(again) is None
    assert accounts.verify("alice", PASSWORD) is None


def test_login_throttle_counts_failures_per_account_and_address(db):
    clock = Clock()
    throttle = LoginThrottle(db, attempts=5, window_s=900, clock=clock)
    for _ in range(4):
        throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == 0
    throttle.failed("alice", "10.0.0.1")
    assert throttle.retry_after("alice", "10.0.0.1") == pytest.approx(900)
    assert throttle.retry_after("alice", "10.0.0.2") == 0 and throttle.retry_after("bob", "10.0.0.1") == 0
    clock.now += 600
    assert throttle.retry_after("alice", "10.0.0.1") == pytest.approx(300)
    clock.now += 301
    assert throttle.retry_after("alice", "10.0.0.1") == 0
    for _ in range(5):
        throttle.failed("bob", "10.0.0.1")
    throttle.succeeded("bob", "10.0.0.1")
    assert throttle.retry_after("bob", "10.0.0.1") == 0


def test_claims_are_leases_that_only_their_holder_renews_or_releases(db):
    clock = Clock()
    claims = Claims(db, lease_s=600, clock=clock)
    assert claims.claim("doc1", "alice").reviewer == "alice"
    assert claims.claim("doc1", "bob").reviewer == "alice"  # bob does not get it
    assert set(claims.held_by_others("bob")) == {"doc1"} and claims.held_by_others("alice") == {}
    clock.now += 500
    renewed = claims.claim("doc1", "alice")
    assert renewed.expires_at == clock.now + 600
    claims.release("doc1", "bob")
    assert claims.holder("doc1").reviewer == "alice"
    clock.now += 601  # alice's page closed: the lease ran out
    assert claims.holder("doc1") is None
    assert claims.claim("doc1", "bob").reviewer == "bob"
    claims.release("doc1", "bob")
    assert claims.holder("doc1") is None


def test_items_seen_today_count_distinct_items_per_day(db):
    clock = Clock()
    seen = SeenToday(db, clock)
    seen.saw("alice", "a")
    seen.saw("alice", "a")
    seen.saw("alice", "b")
    seen.saw("bob", "a")
    assert seen.count("alice") == 2 and seen.count("bob") == 1
    clock.now += 86_400
    assert seen.count("alice") == 0


def test_next_item_skips_claimed_items_and_walks_both_ways():
    ids = ["a", "b", "c", "d"]
    assert next_item(ids) == "a"
    assert next_item(ids, skip={"a", "b"}) == "c"
    assert next_item(ids, after="b") == "c"
    assert next_item(ids, after="b", skip={"c"}) == "d"
    assert next_item(ids, after="d") is None
    assert next_item(ids, after="c", backwards=True) == "b"
    assert next_item(ids, after="c", skip={"b"}, backwards=True) == "a"
    assert next_item(ids, after="gone") == "a"  # decided: it left the queue, start from the top
    assert next_item(ids, after="gone", backwards=True) is None


def test_evidence_is_highlighted_at_its_offsets_and_found_by_its_words_when_they_are_off():
    text = "One. Join us now. Three."
    pieces = segments(text, [{"label": "recruitment", "text": "Join us now.", "score": 0.9, "start": 5, "end": 17},
                             {"label": "propaganda", "text": "Three.", "score": 0.6, "start": 0, "end": 3}])
    assert "".join(piece.text for piece in pieces) == text
    marked = [(piece.text, piece.labels) for piece in pieces if piece.labels]
    assert marked == [("Join us now.", ["recruitment"]), ("Three.", ["propaganda"])]
    assert segments(text, [{"label": "x", "text": "not there", "score": 0.5, "start": 90, "end": 99}])[0].labels == []


def test_precision_and_decisions_per_day():
    reviewed = [
        {"model_version": "v1", "labels": ["recruitment"], "review": {"status": "confirmed"}},
        {"model_version": "v1", "labels": ["recruitment", "propaganda"],
         "review": {"status": "confirmed", "corrected_labels": ["propaganda"]}},
        {"model_version": "v1", "labels": ["recruitment"], "review": {"status": "dismissed"}},
        {"model_version": "v1", "labels": ["recruitment"], "review": {"status": "escalated"}},
        {"model_version": "v2", "labels": ["propaganda"], "review": {"status": "dismissed"}},
    ]
    rows = {(row.model_version, row.label): row for row in precision_by_model(reviewed)}
    assert (rows["v1", "recruitment"].confirmed, rows["v1", "recruitment"].dismissed) == (1, 2)
    assert rows["v1", "propaganda"].precision == 1.0 and rows["v2", "propaganda"].precision == 0.0
    days, table = decisions_per_day([
        {"reviewer": "alice", "decision": "confirmed", "decided_at": "2026-11-02T10:00:00+00:00"},
        {"reviewer": "alice", "decision": "dismissed", "decided_at": "2026-11-02T11:00:00+00:00"},
        {"reviewer": "bob", "decision": "confirmed", "decided_at": "2026-11-01T09:00:00+00:00"}])
    assert days == ["2026-11-02", "2026-11-01"]
    assert sum(table["alice"]["2026-11-02"].values()) == 2 and table["bob"]["2026-11-01"]["confirmed"] == 1


@pytest.fixture
def embedded(tmp_path) -> VigilSettings:
    return VigilSettings.model_validate({"data_dir": str(tmp_path / "data"), "stage": {"poll_timeout_s": 0.2}})


def test_queues_over_the_store(embedded):
    from streams.reviews import record_review
    from streams.schemas import ReviewEvent

    url = "https://q.example/page"
    docs = [flagged("Join the brigade. Now.", {"recruitment": 0.95}, source="q", url=url, minutes=0),
            flagged("Join the brigade. Now, today.", {"recruitment": 0.9}, source="q", url=url, minutes=60),
            flagged("Maybe a call. Perhaps.", {"recruitment": 0.52}, source="q", minutes=1),
            flagged("Ordinary news. Nothing.", {"recruitment": 0.1}, source="q", minutes=2)]
    with open_store(embedded) as store:
        store.setup()
        store.upsert(docs)
        old, new, unsure, benign = (doc.document.id for doc in docs)
        record_review(ReviewEvent(document_id=old, reviewer="alice", decision="confirmed", reason="recruitment-call"),
                      store, embedded)
        flagged_queue = queue_view(store, "flagged", QueueFilter(source="q"))
        assert [item.id for item in flagged_queue.items] == [new, unsure]  # by score
        by_age = queue_view(store, "flagged", QueueFilter(source="q", order="age"))
        assert [item.id for item in by_age.items] == [unsure, new]
        assert queue_view(store, "uncertain", QueueFilter(source="q")).items[0].id == unsure
        versions = queue_view(store, "new-versions", QueueFilter(source="q")).items
        assert [(item.id, item.earlier.id, item.earlier.review_status) for item in versions] == \
            [(new, old, "confirmed")]
        counts = queue_counts(store, QueueFilter(source="q"))
        assert counts["flagged"] == 2 and counts["new-versions"] == 1 and counts["escalated"] == 0
        assert benign not in {item.id for item in flagged_queue.items}


def test_earlier_versions_and_thread_posts_are_found_however_many_documents_were_decided(embedded):
    from streams.reviews import record_review
    from streams.schemas import PostInfo, ReviewEvent

    url = "https://q.example/page"
    old = flagged("Join the brigade. Now.", {"recruitment": 0.6}, source="q", url=url, minutes=0)
    new = flagged("Join the brigade. Now, today.", {"recruitment": 0.6}, source="q", url=url, minutes=90)
    # Decided documents that rank above the old version in every search: a window of the newest or highest
    # scoring decided documents would miss it.
    busy = [flagged(f"Another call number {n}. Come.", {"recruitment": 0.99}, source="q", minutes=10 + n)
            for n in range(6)]
    thread = "https://q.example/t/1"
    posts = [flagged(f"Post {n} of the thread. Words.", {"recruitment": 0.2}, source="q", url=f"{thread}#{n}",
                     minutes=n, post=PostInfo(post_id=str(n), thread_url=thread)) for n in range(3)]
    with open_store(embedded) as store:
        store.setup()
        store.upsert([old, new, *busy, *posts])
        for doc in (old, *busy):
            record_review(ReviewEvent(document_id=doc.document.id, reviewer="alice", decision="confirmed",
                                      reason="recruitment-call"), store, embedded)
        items = queue_view(store, "new-versions", QueueFilter(source="q"), window=3).items
        assert [(item.id, item.earlier.id) for item in items] == [(new.document.id, old.document.id)]
        versions = other_versions(store, store.get(new.document.id))
        assert [(hit.id, hit.review_status) for hit in versions] == [(old.document.id, "confirmed")]
        first = posts[0].document.id
        assert [hit.id for hit in thread_posts(store, store.get(first))] == [p.document.id for p in posts[1:]]
        assert thread_posts(store, store.get(old.document.id)) == []


def _app(settings: VigilSettings, **console):
    from vigil.console.app import create_app

    for key, value in console.items():
        setattr(settings.console, key, value)
    db = ConsoleDB(console_db_path(settings))
    accounts = Accounts(db, FAST_HASHER)
    for name, role in (("alice", "analyst"), ("olga", "operator")):
        accounts.add(name, role, PASSWORD)
    db.close()
    return create_app(settings, publish_queued=False)


def _login(client: TestClient, name: str = "alice", password: str = PASSWORD):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    return client.post("/login", data={"csrf_token": token, "name": name, "password": password},
                       follow_redirects=False)


def _csrf(client: TestClient) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/queues").text).group(1)


def test_every_post_route_refuses_a_request_without_the_csrf_token(embedded):
    app = _app(embedded)
    with TestClient(app) as client:
        assert _login(client).status_code == 303
        posts = [route.path for route in app.routes if isinstance(route, Route) and "POST" in (route.methods or ())]
        assert len(posts) >= 7
        for path in posts:
            if path == "/login":
                continue
            url = path.replace("{name}", "flagged")
            url = re.sub(r"\{[^}]+\}", "0123456789abcdef0123456789abcdef", url)
            assert client.post(url, data={"decision": "confirmed"}).status_code == 403, path


def test_pages_redirect_to_login_api_answers_401_and_headers_are_strict(embedded):
    app = _app(embedded)
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        response = client.get("/queues/flagged?source=x", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/login?next=%2Fqueues%2Fflagged%3Fsource%3Dx"
        assert client.get("/api/me").status_code == 401
        login_page = client.get("/login")
        csp = login_page.headers["content-security-policy"]
        for directive in ("default-src 'self'", "img-src 'self'", "frame-src 'none'", "script-src 'self'"):
            assert directive in csp
        assert login_page.headers["x-frame-options"] == "DENY"
        response = _login(client)
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        assert response.headers["location"] == "/queues"
        assert client.get("/api/me").json() == {"name": "alice", "role": "analyst"}
        assert client.get("/operator").status_code == 403
        assert client.post("/logout", data={"csrf_token": _csrf(client)}, follow_redirects=False).status_code == 303
        assert client.get("/api/me").status_code == 401


def test_cookies_are_secure_behind_https(embedded):
    with TestClient(_app(embedded, https=True), base_url="https://testserver") as client:
        assert "Secure" in _login(client).headers["set-cookie"]


def test_logins_are_throttled_with_a_clear_message(embedded):
    with TestClient(_app(embedded, login_attempts=3)) as client:
        for _ in range(3):
            assert _login(client, password="wrong password!").status_code == 401
        refused = _login(client)  # even the right password, for now
        assert refused.status_code == 429
        assert "Too many failed logins for alice" in refused.text and "try again in 15 minutes" in refused.text
        assert _login(client, "olga").status_code == 303  # another account is not held up


def test_a_trusted_proxy_header_logs_its_account_in_only_when_configured(embedded):
    with TestClient(_app(embedded)) as client:
        assert client.get("/api/me", headers={"X-Remote-User": "olga"}).status_code == 401  # off by default
    embedded.console.trusted_proxy_header = "X-Remote-User"
    from vigil.console.app import create_app

    with TestClient(create_app(embedded, publish_queued=False)) as client:
        assert client.get("/api/me", headers={"X-Remote-User": "olga"}).json() == {"name": "olga", "role": "operator"}
        assert client.get("/api/me", headers={"X-Remote-User": "mallory"}).status_code == 403


def test_decisions_bulk_decisions_claims_and_the_daily_limit(embedded, monkeypatch):
    docs = [flagged("Join the brigade. Now.", {"recruitment": 0.9}, source="b"),
            flagged("Join the brigade. Today.", {"recruitment": 0.8}, source="b"),
            flagged("Join the brigade. Tomorrow.", {"recruitment": 0.7}, source="b")]
    with open_store(embedded) as store:
        store.setup()
        store.upsert(docs)
    first, second, third = (doc.document.id for doc in docs)
    app = _app(embedded, daily_limit=2)
    console = app.state.console
    with TestClient(app) as client:
        _login(client)
        csrf = _csrf(client)
        console.claims.claim(third, "olga")
        response = client.post("/queues/flagged/bulk", data={"csrf_token": csrf, "ids": [first, third],
                                                              "decision": "dismissed", "reason": "not-violating-news",
                                                              "source": "b"}, follow_redirects=False)
        assert response.status_code == 303 and "bulk=1" in response.headers["location"]
        assert "skipped=1" in response.headers["location"]
        assert console.store.get(first)["review"]["status"] == "dismissed"
        assert console.store.get(third)["review"]["status"] == "unreviewed"  # olga holds it
        assert client.post(f"/documents/{third}/decision", data={
            "csrf_token": csrf, "decision": "confirmed", "reason": "recruitment-call"}).status_code == 409
        missing_reason = client.post(f"/documents/{second}/decision", data={"csrf_token": csrf,
                                                                             "decision": "confirmed"})
        assert missing_reason.status_code == 400 and "choose a reason" in missing_reason.text
        unknown = client.post(f"/documents/{second}/decision", data={"csrf_token": csrf, "decision": "confirmed",
                                                                      "reason": "because"})
        assert unknown.status_code == 400 and "recruitment-call" in unknown.text  # names the known reasons

        monkeypatch.setattr("vigil.console.decisions.record_review", lambda event, store, settings: "queued")
        page = client.get("/queues/flagged/next?source=b")
        assert page.url.path == f"/documents/{second}"
        decided = client.post(f"/documents/{second}/decision", data={
            "csrf_token": csrf, "decision": "confirmed", "reason": "recruitment-call", "labels": "recruitment",
            "queue": "flagged", "source": "b"})
        assert "queued: the reviews topic was unreachable" in decided.text
        client.get(f"/documents/{first}")
        assert "at or over the daily limit of 2" in client.get("/queues").text


def test_a_bulk_decision_takes_each_items_corrected_labels(embedded):
    scores = {"recruitment": 0.9, "propaganda": 0.7}
    docs = [flagged(f"Join the brigade. Glory {n}.", scores, source="b") for n in range(3)]
    with open_store(embedded) as store:
        store.setup()
        store.upsert(docs)
    kept, relabelled, emptied = (doc.document.id for doc in docs)
    app = _app(embedded)
    with TestClient(app) as client:
        _login(client)
        page = client.get("/queues/flagged?source=b").text
        assert f'name="labels-{relabelled}" value="propaganda" checked' in page  # the model's labels, ticked
        response = client.post("/queues/flagged/bulk", data={
            "csrf_token": _csrf(client), "ids": [kept, relabelled, emptied], "decision": "confirmed",
            "reason": "recruitment-call", "labelled": [kept, relabelled, emptied],
            f"labels-{kept}": ["propaganda", "recruitment"], f"labels-{relabelled}": ["propaganda"]},
            follow_redirects=False)
        assert "bulk=3" in response.headers["location"]
        store = app.state.console.store
        corrected = {doc_id: store.review_history(doc_id)[-1]["labels"] for doc_id in (kept, relabelled, emptied)}
        assert corrected == {kept: None, relabelled: ["propaganda"], emptied: []}  # None: as the model flagged
        refused = client.post("/queues/flagged/bulk", data={
            "csrf_token": _csrf(client), "ids": [kept], "decision": "confirmed", "reason": "recruitment-call",
            "labelled": [kept], f"labels-{kept}": ["bogus"]}, follow_redirects=False)
        assert "bulk=0" in refused.headers["location"] and "bogus" in unquote(refused.headers["location"])


def test_a_known_content_match_shows_its_list_and_keeps_its_label_when_confirmed(embedded):
    from streams.schemas import Match

    doc = flagged("A poster and a caption. Words.", {}, source="m").model_copy(update={
        "labels": ["propaganda"], "flagged": True,
        "matches": [Match(list="gifct", entry="pdq-1", signal_type="pdq", distance=6, label="propaganda",
                          evidence="https://m.example/poster.jpg")]})
    with open_store(embedded) as store:
        store.setup()
        store.upsert([doc])
    app = _app(embedded)
    with TestClient(app) as client:
        _login(client)
        page = client.get(f"/documents/{doc.document.id}").text
        assert 'id="matches"' in page and "gifct" in page and "https://m.example/poster.jpg" in page
        assert 'name="labels" value="propaganda" checked' in page  # a label the model never scored
        assert client.post(f"/documents/{doc.document.id}/decision", data={
            "csrf_token": _csrf(client), "decision": "confirmed", "reason": "propaganda-glorification",
            "labels": "propaganda"}).status_code == 200
        assert app.state.console.store.review_history(doc.document.id)[-1]["labels"] is None  # as flagged


def test_vigil_users_add_list_and_disable(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    assert main(["users", "add", "alice", "--role", "operator", "--password-file", str(secret)]) == 0
    monkeypatch.setattr("getpass.getpass", lambda prompt="": PASSWORD)
    assert main(["users", "add", "bob"]) == 0
    assert main(["users", "add", "bob"]) == 2
    assert main(["users", "disable", "bob"]) == 0
    assert main(["users", "list"]) == 0
    out = capsys.readouterr()
    assert "exists already" in out.err
    assert re.search(r"alice\s+operator\s+active", out.out) and re.search(r"bob\s+analyst\s+disabled", out.out)
    db = ConsoleDB(tmp_path / "console.sqlite")
    assert Accounts(db).verify("alice", PASSWORD).role == "operator"
    db.close()
