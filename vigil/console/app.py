"""The review console's web app (Starlette, server-rendered Jinja2 pages, one small script for the keyboard
flow). Every page needs a session; every POST needs the session's CSRF token; crawled content is shown as
text under a strict Content-Security-Policy."""
from __future__ import annotations

import re
import secrets
import threading
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from streams.config import ConfigError, VigilSettings
from streams.errors import TransientError
from streams.reviews import publish_periodically
from streams.stores import SearchQuery, Store
from streams.stores.base import REVIEW_STATUSES
from vigil.console import operator
from vigil.console.auth import ROLES, AccountError, User, tokens_equal
from vigil.console.decisions import DECISION_KEYS, bulk_decide, decide, decision_values, policy_reasons_of, standing_of
from vigil.console.documents import other_versions, read_capture, score_rows, segments, thread_posts
from vigil.console.queues import ORDERS, QUEUES, QueueFilter, next_item, queue_counts, queue_view
from vigil.console.web import (
    HERE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Console,
    Gate,
    check_csrf_header,
    checked_form,
    console_of,
    page,
    require,
    session_of,
    set_session_cookie,
    wants_json,
)

# --- logging in and out ---------------------------------------------------------------------------------

def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/") and not target.startswith("//") else "/queues"


async def login_page(request: Request) -> Response:
    # One token per browser, kept while it logs in: a second tab (or the browser's favicon request) must not
    # make the first one's form stale.
    token = request.cookies.get(LOGIN_COOKIE) or ""
    if not re.fullmatch(r"[A-Za-z0-9_-]{32}", token):
        token = secrets.token_urlsafe(24)
    response = await page(request, "login.html", csrf_login=token, next=_safe_next(request.query_params.get("next")),
                          name="")
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, httponly=True, samesite="strict",
                        secure=console_of(request).settings.console.https, path="/login")
    return response


async def login(request: Request) -> Response:
    console = console_of(request)
    form = await request.form()
    token = form.get("csrf_token")
    if not tokens_equal(token if isinstance(token, str) else None, request.cookies.get(LOGIN_COOKIE)):
        raise HTTPException(403, "the login form's CSRF token is missing or wrong: reload the login page")
    name, password = str(form.get("name") or "").strip(), str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    address = Gate.address(request)
    wait = await console.run(console.throttle.retry_after, name, address)
    if wait > 0:
        minutes = max(1, round(wait / 60))
        return await page(request, "login.html", 429, csrf_login=token, next=target, name=name,
                          error=f"Too many failed logins for {name} from {address}: try again in {minutes} "
                          f"minute{'s' if minutes != 1 else ''}, or ask an admin to check the account.")
    user = await run_in_threadpool(console.accounts.verify, name, password)
    if user is None:
        await console.run(console.throttle.failed, name, address)
        return await page(request, "login.html", 401, csrf_login=token, next=target, name=name,
                          error="Wrong name or password, or the account is disabled.")
    await console.run(console.throttle.succeeded, name, address)
    session_id = await console.run(console.sessions.create, user, address)
    response = RedirectResponse(target, 303)
    set_session_cookie(response, console, session_id)
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    await checked_form(request)
    console = console_of(request)
    await console.run(console.sessions.end, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def favicon(request: Request) -> Response:
    return RedirectResponse("/static/favicon.svg", 301)


async def home(request: Request) -> Response:
    return RedirectResponse("/queues", 303)


# --- queues ---------------------------------------------------------------------------------------------

def facets(store: Store, sample: int = 500) -> dict[str, list[str]]:
    """Labels, sources and languages among the newest documents, for the filter menus."""
    hits = store.search(SearchQuery(limit=sample)).hits
    return {"labels": sorted({label for hit in hits for label in hit.scores}),
            "sources": sorted({hit.source for hit in hits}), "langs": sorted({hit.lang for hit in hits})}


def _queue_name(request: Request) -> str:
    name = request.path_params["name"]
    if name not in QUEUES:
        raise HTTPException(404, f"no queue {name!r}; the queues are {', '.join(QUEUES)}")
    return name


async def queue_list(request: Request) -> Response:
    console = console_of(request)
    filt = QueueFilter.of(request.query_params)
    counts = await console.run(queue_counts, console.store, filt)
    menus = await console.run(facets, console.store)
    return await page(request, "queues.html", counts=counts, filter=filt, facets=menus)


RESULT_NOTICES = {"published": "published to the reviews topic",
                  "queued": "queued: the reviews topic was unreachable, it is published when it is back"}


def _decided_doc(params) -> str | None:
    """The document just decided, named in the query after a decision (only a well-formed id is shown)."""
    doc = params.get("doc") or ""
    return doc if params.get("recorded") and re.fullmatch(r"[0-9a-f]{8,64}", doc) else None


def _recorded_notice(params) -> str | None:
    decision, status, doc = params.get("recorded"), params.get("status"), _decided_doc(params)
    if decision not in decision_values() or status not in RESULT_NOTICES:
        return None
    return f"Recorded {decision} on {doc or 'the item'}: {RESULT_NOTICES[status]}."


async def queue_page(request: Request) -> Response:
    console = console_of(request)
    name = _queue_name(request)
    user = session_of(request).user
    filt = QueueFilter.of(request.query_params)
    view = await console.run(queue_view, console.store, name, filt)
    claimed = await console.run(console.claims.held_by_others, user.name)
    menus = await console.run(facets, console.store)
    params = request.query_params
    notice = _recorded_notice(params)
    if params.get("end"):
        notice = " ".join(filter(None, [notice, "No more unclaimed items in this queue."]))
    elif params.get("bulk") is not None:
        notice = (f"Bulk decision: {params.get('bulk')} recorded ({params.get('queued') or 0} queued), "
                  f"{params.get('skipped') or 0} skipped (claimed by others or failed).")
    reasons = await console.run(policy_reasons_of, console.settings)
    return await page(request, "queue.html", view=view, claimed=claimed, facets=menus, orders=ORDERS,
                      notice=notice, error=params.get("bulk_error") or None, reasons=reasons,
                      decisions=decision_values(), qs=filt.query_string(),
                      previous_doc=_decided_doc(params))


async def queue_next(request: Request) -> Response:
    """Claim and open the next item nobody else holds (after `after`, or before it with `back`)."""
    console = console_of(request)
    name = _queue_name(request)
    user = session_of(request).user
    filt = QueueFilter.of(request.query_params)
    params = request.query_params
    after, backwards = params.get("after") or None, bool(params.get("back"))
    view = await console.run(queue_view, console.store, name, filt)
    ids = [item.id for item in view.items]
    skip = set(await console.run(console.claims.held_by_others, user.name))
    recorded = {key: str(params.get(key)) for key in ("recorded", "status", "doc") if params.get(key)}
    while True:
        doc_id = next_item(ids, after, skip, backwards)
        if doc_id is None:
            break
        claim = await console.run(console.claims.claim, doc_id, user.name)
        if claim.reviewer == user.name:
            break
        skip.add(doc_id)  # taken by someone else a moment ago
    if after and after != doc_id:
        await console.run(console.claims.release, after, user.name)
    if doc_id is None:
        if backwards:
            return RedirectResponse(f"/documents/{after}?{filt.query_string(queue=name, first='1')}", 303)
        return RedirectResponse(f"/queues/{name}?{filt.query_string(end='1', **recorded)}", 303)
    return RedirectResponse(f"/documents/{doc_id}?{filt.query_string(queue=name, **recorded)}", 303)


async def bulk(request: Request) -> Response:
    form = await checked_form(request)  # first: a forged request learns nothing, not even which queues exist
    console = console_of(request)
    name = _queue_name(request)
    user = session_of(request).user
    filt = QueueFilter.of(form)
    ids = [str(value) for value in form.getlist("ids")]
    if not ids:
        raise HTTPException(400, "select at least one item for a bulk decision")
    # Each row carries its label boxes and a `labelled` marker, so that unticking every box is a correction.
    labels_by_id = {doc_id: [str(label) for label in form.getlist(f"labels-{doc_id}")]
                    for doc_id in map(str, form.getlist("labelled"))}
    outcome = await console.run(bulk_decide, console, user, ids, str(form.get("decision") or ""),
                                str(form.get("reason") or "") or None, str(form.get("note") or ""), labels_by_id)
    extra = {"bulk": str(outcome.recorded), "queued": str(outcome.queued), "skipped": str(len(outcome.skipped))}
    if outcome.errors:
        extra["bulk_error"] = "; ".join(outcome.errors[:3])
    return RedirectResponse(f"/queues/{name}?{filt.query_string(**extra)}", 303)


# --- documents ------------------------------------------------------------------------------------------

def _document_context(console: Console, doc_id: str, user: User, queue: str | None, filt: QueueFilter) -> dict:
    store = console.store
    doc = store.get(doc_id)
    if doc is None:
        raise HTTPException(404, f"no document {doc_id} in the {store.name} store")
    doc.setdefault("review", {"status": "unreviewed"})  # Elasticsearch holds no review fields before a decision
    claim = console.claims.claim(doc_id, user.name)
    console.seen.saw(user.name, doc_id)
    history_of = getattr(store, "review_history", None)
    history = history_of(doc_id) if history_of else []
    position = None
    if queue:
        ids = [item.id for item in queue_view(store, queue, filt).items]
        if doc_id in ids:
            position = (ids.index(doc_id) + 1, len(ids))
    evidence = doc.get("evidence") or []
    flagged_labels = set(doc.get("labels") or ())
    return {
        "doc": doc, "claim": claim, "mine": claim.reviewer == user.name, "history": history,
        "standing": standing_of(history), "versions": other_versions(store, doc),
        "thread": thread_posts(store, doc),
        "segments": segments(doc.get("text") or "", evidence), "scores": score_rows(doc),
        # A hash-list match flags labels the model may not have scored (a first pass cleared the text).
        "label_boxes": sorted(set(doc.get("scores") or ()) | set(doc.get("labels") or ())),
        "evidence": sorted(evidence, key=lambda e: (e.get("label", ""), -(e.get("score") or 0))),
        "flagged_evidence": [e for e in evidence if e.get("label") in flagged_labels],
        "other_evidence": [e for e in evidence if e.get("label") not in flagged_labels],
        "reasons": policy_reasons_of(console.settings), "decision_keys": DECISION_KEYS,
        "queue": QUEUES.get(queue) if queue else None, "position": position,
        "lease_s": console.settings.console.claim_minutes * 60,
    }


async def document_page(request: Request) -> Response:
    console = console_of(request)
    user = session_of(request).user
    params = request.query_params
    queue = params.get("queue") if params.get("queue") in QUEUES else None
    filt = QueueFilter.of(params)
    context = await console.run(_document_context, console, request.path_params["doc_id"], user, queue, filt)
    notice = _recorded_notice(params)
    if params.get("first"):
        notice = "This is the first item of the queue."
    qs = filt.query_string(queue=queue) if queue else ""
    return await page(request, "document.html", notice=notice, qs=qs, filter=filt,
                      previous_doc=_decided_doc(params), **context)


async def decision(request: Request) -> Response:
    console = console_of(request)
    doc_id = request.path_params["doc_id"]
    form = await checked_form(request)
    user = session_of(request).user
    queue = str(form.get("queue") or "")
    filt = QueueFilter.of(form)
    chosen = str(form.get("decision") or "")
    labels = [str(label) for label in form.getlist("labels")]
    result = await console.run(decide, console, user, doc_id, chosen, labels, str(form.get("reason") or "") or None,
                               str(form.get("note") or ""))
    await console.run(console.claims.release, doc_id, user.name)
    recorded = {"recorded": chosen, "status": result, "doc": doc_id}
    if queue in QUEUES and chosen != "retracted":  # an undo stays on the item, to decide it again
        return RedirectResponse(f"/queues/{queue}/next?{filt.query_string(after=doc_id, **recorded)}", 303)
    extra = {"queue": queue} if queue in QUEUES else {}
    return RedirectResponse(f"/documents/{doc_id}?{filt.query_string(**extra, **recorded)}", 303)


async def capture_page(request: Request) -> Response:
    console = console_of(request)
    doc_id = request.path_params["doc_id"]
    doc = await console.run(console.store.get, doc_id)
    if doc is None:
        raise HTTPException(404, f"no document {doc_id} in the {console.store.name} store")
    archive = doc.get("archive") or {}
    if not archive.get("warc_sha256"):
        raise HTTPException(404, f"document {doc_id} has no archived capture (archive.warc_sha256)")
    capture = await run_in_threadpool(read_capture, console.settings, archive["warc_sha256"])
    payload_ok = capture.payload_sha256 == archive.get("payload_sha256") if capture.status == "intact" else None
    return await page(request, "capture.html", doc=doc, capture=capture, payload_ok=payload_ok,
                      verified_at=datetime.now(timezone.utc).isoformat(timespec="seconds")
                      if request.query_params.get("verify") else None)


# --- search ---------------------------------------------------------------------------------------------

def _date(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"{name}: not an ISO date or time: {text!r} (like 2026-11-28)") from None


async def search_page(request: Request) -> Response:
    console = console_of(request)
    params = request.query_params
    status = params.get("status") or None
    if status is not None and status not in REVIEW_STATUSES:
        raise HTTPException(400, f"review status must be one of {', '.join(REVIEW_STATUSES)}")
    flagged = {"yes": True, "no": False}.get(params.get("flagged") or "")
    query = SearchQuery(text=params.get("q") or None, label=params.get("label") or None, flagged=flagged,
                        source=params.get("source") or None, lang=params.get("lang") or None,
                        since=_date(params.get("since"), "since"), until=_date(params.get("until"), "until"),
                        review_status=status, limit=50)
    searched = any(params.get(key) for key in ("q", "label", "flagged", "source", "lang", "since", "until", "status"))
    result = await console.run(console.store.search, query) if searched else None
    menus = await console.run(facets, console.store)
    return await page(request, "search.html", result=result, params=params, facets=menus,
                      statuses=REVIEW_STATUSES)


# --- JSON API -------------------------------------------------------------------------------------------

async def api_claim(request: Request) -> Response:
    """Renew (or take) the claim on an item while its page is open."""
    check_csrf_header(request)
    console = console_of(request)
    user = session_of(request).user
    claim = await console.run(console.claims.claim, request.path_params["doc_id"], user.name)
    body = {"claimed": claim.reviewer == user.name, "reviewer": claim.reviewer,
            "expires_at": claim.expires.isoformat(timespec="seconds")}
    return JSONResponse(body, 200 if body["claimed"] else 409)


async def api_queues(request: Request) -> Response:
    console = console_of(request)
    counts = await console.run(queue_counts, console.store, QueueFilter.of(request.query_params))
    return JSONResponse({"queues": counts, "seen_today": await console.run(console.seen.count,
                                                                          session_of(request).user.name)})


async def api_me(request: Request) -> Response:
    user = session_of(request).user
    return JSONResponse({"name": user.name, "role": user.role})


# --- admin ----------------------------------------------------------------------------------------------

async def users_page(request: Request) -> Response:
    require(request, "admin")
    console = console_of(request)
    users = await console.run(console.accounts.list)
    return await page(request, "users.html", users=users, roles=ROLES, notice=request.query_params.get("done"))


async def users_add(request: Request) -> Response:
    require(request, "admin")
    form = await checked_form(request)
    console = console_of(request)
    try:
        await run_in_threadpool(console.accounts.add, str(form.get("name") or "").strip(),
                                str(form.get("role") or ""), str(form.get("password") or ""))
    except AccountError as exc:
        users = await console.run(console.accounts.list)
        return await page(request, "users.html", 400, users=users, roles=ROLES, error=str(exc))
    return RedirectResponse(f"/admin/users?{urlencode({'done': 'Account added.'})}", 303)


async def users_disable(request: Request) -> Response:
    user = require(request, "admin")
    await checked_form(request)
    name = request.path_params["name"]
    if name == user.name:
        raise HTTPException(400, "you cannot disable your own account here (`vigil users disable` can)")
    console = console_of(request)
    try:
        await console.run(console.accounts.disable, name)
    except AccountError as exc:
        raise HTTPException(404, str(exc)) from None
    return RedirectResponse(f"/admin/users?{urlencode({'done': f'{name} disabled; their sessions ended.'})}", 303)


# --- errors ---------------------------------------------------------------------------------------------

async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if wants_json(request):
        return JSONResponse({"error": exc.detail}, exc.status_code)
    return await page(request, "error.html", exc.status_code, status=exc.status_code, message=exc.detail)


async def bad_configuration(request: Request, exc: Exception) -> Response:
    message = f"Vigil's configuration is wrong: {exc}"
    if wants_json(request):
        return JSONResponse({"error": message}, 500)
    return await page(request, "error.html", 500, status=500, message=message)


async def store_down(request: Request, exc: Exception) -> Response:
    message = f"The store is unreachable: {exc}. Try again in a moment; `vigil config` shows its address."
    if wants_json(request):
        return JSONResponse({"error": message}, 503)
    return await page(request, "error.html", 503, status=503, message=message)


def create_app(settings: VigilSettings, store: Store | None = None, publish_queued: bool = True) -> Starlette:
    """The console over the store the settings name (or the one given). With publish_queued, a thread sends
    decisions that could not be published at once (streams.reviews.publish_periodically)."""
    console = Console(settings, store)

    @asynccontextmanager
    async def lifespan(app):
        stop = threading.Event()
        # Decisions queued while the reviews topic was down go out when it is back, even with no index stage.
        publisher = publish_periodically(settings, stop) if publish_queued else None
        try:
            yield
        finally:
            stop.set()
            if publisher is not None:
                publisher.join(timeout=5)
            console.close()

    routes = [
        Route("/healthz", healthz),
        Route("/login", login_page, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/", home),
        Route("/favicon.ico", favicon),
        Route("/queues", queue_list),
        Route("/queues/{name}", queue_page),
        Route("/queues/{name}/next", queue_next),
        Route("/queues/{name}/bulk", bulk, methods=["POST"]),
        Route("/documents/{doc_id}", document_page),
        Route("/documents/{doc_id}/decision", decision, methods=["POST"]),
        Route("/documents/{doc_id}/capture", capture_page),
        Route("/search", search_page),
        Route("/api/me", api_me),
        Route("/api/queues", api_queues),
        Route("/api/claims/{doc_id}", api_claim, methods=["POST"]),
        Route("/admin/users", users_page, methods=["GET"]),
        Route("/admin/users", users_add, methods=["POST"]),
        Route("/admin/users/{name}/disable", users_disable, methods=["POST"]),
        *operator.routes(),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(Gate)], lifespan=lifespan,
                    exception_handlers={HTTPException: http_error, TransientError: store_down,
                                        ConfigError: bad_configuration})
    app.state.console = console
    return app
