"""The review console in a real browser (Debian's chromium through Playwright), on both stores: logging in,
queues with claims, the keyboard flow, decisions and undo, search, the operator pages and what they refuse,
CSRF, and crawled markup that must stay inert."""
from __future__ import annotations

import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from urllib.parse import urlencode

import httpx
import pytest

from crawlers.evidence import EvidenceArchive
from streams.reviews import record_review
from streams.schemas import ArchiveRef, PostInfo, ReviewEvent
from tests.console.conftest import PASSWORD
from tests.console.helpers import flagged
from tests.local_server import LocalServer

pytestmark = pytest.mark.browser

RECRUITING = ("Join the brigade now and travel to the camp before winter. The caravan leaves from the usual "
              "place. Bring what the recruiter told you to bring.")


@pytest.fixture
def open_page(browser, console):
    """open_page(name): a logged-in page in a fresh browser context (its own cookies)."""
    contexts = []

    def login(name: str, target: str = "/queues"):
        context = browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.goto(target)
        assert "/login" in page.url
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("#login-form button[type=submit]")
        page.wait_for_url(re.compile(re.escape(target.split("?")[0])))
        return page

    yield login
    for context in contexts:
        context.close()


def shot(page, screenshots, name: str, store: str) -> None:
    if store == "embedded":  # one set is enough; both stores render the same pages
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def store_of(console) -> str:
    return "elasticsearch" if console.settings.elasticsearch.url else "embedded"


def choose_reason_and_press(page, reason: str, key: str) -> None:
    page.select_option("#reason", reason)
    page.keyboard.press("Escape")  # leaves the menu: the keys are the console's again
    page.keyboard.press(key)


def test_log_in_claim_confirm_and_dismiss_with_corrected_labels(console, browser, open_page, screenshots):
    if store_of(console) == "embedded":
        context = browser.new_context(base_url=console.url, viewport={"width": 1280, "height": 700})
        login = context.new_page()
        login.goto("/")
        assert "/login" in login.url
        shot(login, screenshots, "login", "embedded")
        context.close()
    source = "flow"
    first, second = console.add(
        flagged(RECRUITING, {"recruitment": 0.95, "propaganda": 0.2}, source=source, title="Caravan notice"),
        flagged("The leader's speech was glorious. Report on the rally.", {"recruitment": 0.7, "propaganda": 0.8},
                source=source, title="Rally page", minutes=5))
    page = open_page("alice")
    assert page.locator("#queue-list tr[data-queue=flagged] .count").inner_text().strip() != "0"
    shot(page, screenshots, "queues", store_of(console))

    page.goto(f"/queues/flagged?source={source}")
    assert page.locator("#items tbody tr").count() == 2
    shot(page, screenshots, "queue", store_of(console))
    page.click("#start")
    page.wait_for_url(re.compile(f"/documents/{first}"))  # the highest score first
    assert console.state.claims.holder(first).reviewer == "alice"
    assert page.locator("#flagged-evidence").get_attribute("open") is None  # violent passages start collapsed
    page.keyboard.press("o")
    assert page.locator("#flagged-evidence").get_attribute("open") is not None
    assert page.locator("#doc-text mark.ev").first.inner_text().startswith("Join the brigade now")
    assert "test-1" in page.locator("#versions-line").inner_text()
    shot(page, screenshots, "document", store_of(console))

    page.keyboard.press("c")  # no reason yet: the console asks for one instead of submitting
    assert "Choose a reason" in page.locator("#key-hint").inner_text()
    choose_reason_and_press(page, "recruitment-call", "c")
    page.wait_for_url(re.compile(f"/documents/{second}"))  # the next item loads
    assert f"Recorded confirmed on {first}" in page.locator("#notice").inner_text()

    page.uncheck("#label-boxes input[value=recruitment]")
    page.uncheck("#label-boxes input[value=propaganda]")
    page.fill("#note", "a news report on the rally")
    choose_reason_and_press(page, "not-violating-news", "d")
    page.wait_for_url(re.compile("/queues/flagged"))
    assert "No more unclaimed items" in page.locator("#notice").inner_text()

    console.store.refresh()
    assert console.store.get(first)["review"]["status"] == "confirmed"
    assert console.store.get(second)["review"]["status"] == "dismissed"
    latest = console.store.review_history(second)[-1]
    assert (latest["reviewer"], latest["reviewer_source"], latest["labels"], latest["reason"], latest["note"]) == \
        ("alice", "console", [], "not-violating-news", "a news report on the rally")
    assert console.state.claims.holder(first) is None  # a decision lets go of the claim


def test_escalate_then_undo(console, open_page):
    source = "undo"
    (doc,) = console.add(flagged(RECRUITING, {"recruitment": 0.9}, source=source, title="Unclear"))
    page = open_page("alice")
    page.goto(f"/queues/flagged/next?source={source}")
    page.wait_for_url(re.compile(f"/documents/{doc}"))
    choose_reason_and_press(page, "escalate-unsure-context", "e")
    page.wait_for_url(re.compile("/queues/flagged"))
    page.goto(f"/queues/escalated?source={source}")
    page.click(f"#items tr[data-id='{doc}'] a.open")
    page.wait_for_url(re.compile(f"/documents/{doc}"))
    assert "escalated" in page.locator("#review-status").inner_text()
    page.keyboard.press("u")  # undo needs no reason
    page.wait_for_url(re.compile(f"/documents/{doc}.*recorded=retracted"))
    assert "unreviewed" in page.locator("#review-status").inner_text()
    assert page.locator("#history tbody tr").count() == 2
    console.store.refresh()
    assert [entry["decision"] for entry in console.store.review_history(doc)] == ["escalated", "retracted"]
    assert console.store.get(doc)["review"]["status"] == "unreviewed"


def test_a_second_reviewer_does_not_get_the_claimed_item(console, open_page):
    source = "claims"
    held, other = console.add(flagged(RECRUITING, {"recruitment": 0.9}, source=source),
                              flagged(RECRUITING + " Again.", {"recruitment": 0.8}, source=source))
    alice = open_page("alice")
    alice.goto(f"/queues/flagged/next?source={source}")
    alice.wait_for_url(re.compile(f"/documents/{held}"))

    bob = open_page("bob")
    bob.goto(f"/queues/flagged/next?source={source}")
    bob.wait_for_url(re.compile(f"/documents/{other}"))  # alice's item is skipped
    bob.goto(f"/queues/flagged?source={source}")
    assert "claimed by alice" in bob.locator(f"#items tr[data-id='{held}']").inner_text()
    bob.goto(f"/documents/{held}")
    assert "alice holds this item" in bob.locator("#claimed-by-other").inner_text()
    assert bob.locator("#btn-confirmed").is_disabled()
    bob.goto(f"/queues/flagged/next?source={source}&after={other}")
    bob.wait_for_url(re.compile("/queues/flagged.*end=1"))


def test_search(console, open_page, screenshots):
    console.add(flagged("An unusual word: zephyrine recruitment poster.", {"recruitment": 0.6}, source="search",
                        title="Zephyrine poster"))
    page = open_page("alice", "/search")
    page.fill("input[name=q]", "zephyrine")
    page.click("#search-form button[type=submit]")
    page.wait_for_url(re.compile("q=zephyrine"))
    assert "Zephyrine poster" in page.locator("#hits").inner_text()
    assert page.locator("#hits li").count() == 1
    shot(page, screenshots, "search", store_of(console))


def test_operator_reads_the_audit_log_and_the_operator_pages(console, open_page, screenshots):
    (doc,) = console.add(flagged(RECRUITING, {"recruitment": 0.9}, source="audit"))
    event = ReviewEvent(document_id=doc, reviewer="carol", decision="dismissed", reason="not-violating-research",
                        reviewer_source="cli", note="audit me")
    record_review(event, console.store, console.settings)
    console.store.refresh()
    page = open_page("olga", "/operator/audit")
    page.fill("#audit-filters input[name=reviewer]", "carol")
    page.click("#audit-filters button[type=submit]")
    page.wait_for_url(re.compile("reviewer=carol"))
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 1 and "audit me" in rows.first.inner_text()
    page.goto(f"/operator/audit?{urlencode({'document': doc})}")
    assert page.locator("#audit tbody tr").count() == 1
    shot(page, screenshots, "audit", store_of(console))
    page.goto("/operator")
    assert "carol" in page.locator("#per-reviewer").inner_text()
    assert "audit" in page.locator("#flag-rates").inner_text()
    shot(page, screenshots, "operator", store_of(console))
    page.goto("/operator/dead-letters")
    assert "0 dead letters" in page.locator("#dlq-report").inner_text()
    page.click("#redrive")
    page.wait_for_url(re.compile("redriven="))
    shot(page, screenshots, "dead-letters", store_of(console))


def test_an_analyst_is_refused_the_operator_pages(console, open_page):
    page = open_page("alice")
    for path in ("/operator", "/operator/audit", "/operator/dead-letters", "/admin/users"):
        response = page.goto(path)
        assert response.status == 403, path
        assert "alice is an analyst" in page.locator("#error-message").inner_text()
    assert page.locator("header nav").inner_text().count("Operator") == 0


def _logged_in_client(console) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=console.url, follow_redirects=False)
    form = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    assert client.post("/login", data={"csrf_token": token, "name": "alice", "password": PASSWORD}).status_code == 303
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/queues").text).group(1)
    return client, csrf


def test_a_form_without_its_csrf_token_is_refused(console):
    (doc,) = console.add(flagged(RECRUITING, {"recruitment": 0.9}, source="csrf"))
    anonymous = httpx.Client(base_url=console.url, follow_redirects=False)
    assert anonymous.get("/healthz").status_code == 200
    assert anonymous.get("/queues").status_code == 303
    assert anonymous.get("/queues").headers["location"].startswith("/login")
    assert anonymous.get("/api/queues").status_code == 401
    assert anonymous.post("/login", data={"name": "alice", "password": PASSWORD}).status_code == 403

    client, csrf = _logged_in_client(console)
    decision = {"decision": "confirmed", "reason": "recruitment-call", "labels": "recruitment"}
    assert client.post(f"/documents/{doc}/decision", data=decision).status_code == 403
    assert client.post(f"/documents/{doc}/decision", data={**decision, "csrf_token": "forged"}).status_code == 403
    assert client.post("/logout").status_code == 403
    assert client.post(f"/api/claims/{doc}").status_code == 403
    assert client.post(f"/api/claims/{doc}", headers={"X-CSRF-Token": csrf}).status_code == 200
    console.store.refresh()
    assert console.store.review_history(doc) == []  # nothing was recorded by the refused forms
    assert client.post(f"/documents/{doc}/decision", data={**decision, "csrf_token": csrf}).status_code == 303
    cookie = next(header for header in client.cookies.jar)
    assert cookie.name == "vigil_session" and cookie.has_nonstandard_attr("HttpOnly")


class CountingHandler(BaseHTTPRequestHandler):
    requests: list[str] = []
    lock = threading.Lock()

    def do_GET(self):
        with self.lock:
            self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_crawled_markup_renders_inert(console, open_page, screenshots):
    CountingHandler.requests = []
    with LocalServer(CountingHandler) as host:
        hostile = (f'Hello <script>window.pwned = 1</script> <img src="{host.url}/pixel.png" '
                   f'onerror="window.pwned = 2"> <iframe src="{host.url}/frame"></iframe>. Join the brigade now.')
        archive = EvidenceArchive(console.settings.data_dir / "evidence")
        capture = archive.store("https://hostile.example/page", 200, "OK", [("Content-Type", "text/html")],
                                f"<html><body>{hostile}<link rel=stylesheet href='{host.url}/x.css'></body></html>"
                                .encode(), datetime(2026, 11, 1, tzinfo=timezone.utc))
        doc = flagged(hostile, {"recruitment": 0.9}, source="hostile", title=f'<img src="{host.url}/title.png">',
                      archive=ArchiveRef(warc_sha256=capture.warc_sha256, payload_sha256=capture.payload_sha256,
                                         captured_at=capture.captured_at),
                      post=PostInfo(post_id="1", media=[f"{host.url}/video.mp4"]))
        (doc_id,) = console.add(doc)
        page = open_page("alice", f"/documents/{doc_id}")
        response = page.goto(f"/documents/{doc_id}")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.keyboard.press("o")
        assert "<script>window.pwned = 1</script>" in page.locator("#doc-text").inner_text()
        assert f'<img src="{host.url}/title.png">' in page.locator("#doc-title").inner_text()
        assert f"{host.url}/video.mp4" in page.locator("#media").inner_text()
        assert page.locator("main img, main iframe, main script, main video").count() == 0
        page.goto(f"/documents/{doc_id}/capture?verify=1")
        assert "Intact" in page.locator("#capture-status").inner_text()
        page.click("#capture-payload summary")
        assert "<script>window.pwned = 1</script>" in page.locator("#payload").inner_text()
        shot(page, screenshots, "capture", store_of(console))
        page.wait_for_timeout(300)  # time for anything that would load to ask for it
        assert page.evaluate("window.pwned") is None
    assert CountingHandler.requests == []
