"""What the console's pages share: the Console (settings, store, database), templates, the session gate with
its security headers, CSRF checks and role checks."""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from streams.config import VigilSettings
from streams.stores import Store, open_store
from vigil.console.auth import Accounts, LoginThrottle, Session, Sessions, User, secret_key, tokens_equal
from vigil.console.claims import Claims, SeenToday
from vigil.console.db import ConsoleDB, console_db_path
from vigil.console.queues import QUEUES

HERE = Path(__file__).parent
SESSION_COOKIE = "vigil_session"
LOGIN_COOKIE = "vigil_login"  # the login form's CSRF token, before there is a session
PUBLIC_PATHS = ("/login", "/healthz", "/static/", "/favicon.ico")
CSP = ("default-src 'self'; img-src 'self'; media-src 'none'; object-src 'none'; frame-src 'none'; "
       "script-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

T = TypeVar("T")


class Console:
    """What every handler shares: settings, the store, the console database and its tables."""

    def __init__(self, settings: VigilSettings, store: Store | None = None):
        self.settings = settings
        self.store = store if store is not None else open_store(settings)
        self.db = ConsoleDB(console_db_path(settings))
        console = settings.console
        self.accounts = Accounts(self.db)
        self.sessions = Sessions(self.db, secret_key(settings), console.session_hours * 3600)
        self.throttle = LoginThrottle(self.db, console.login_attempts, console.login_window_minutes * 60)
        self.claims = Claims(self.db, console.claim_minutes * 60)
        self.seen = SeenToday(self.db)
        self._store_lock = threading.Lock()  # one store call at a time: the embedded store's reads share a connection

    async def run(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking work (store, database, password hashing) off the event loop, one store call at a time."""
        def locked() -> T:
            with self._store_lock:
                return work(*args, **kwargs)
        return await run_in_threadpool(locked)

    def close(self) -> None:
        self.store.close()
        self.db.close()


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = lambda value: str(value or "")[:16].replace("T", " ")
    env.filters["pct"] = lambda value: "" if value is None else f"{value:.0%}"
    env.filters["score"] = lambda value: "" if value is None else f"{value:.2f}"
    # Search snippets mark matches with ** (embedded store) or <em> (Elasticsearch); shown as plain text.
    env.filters["snippet"] = lambda value: str(value or "").replace("**", "").replace("<em>", "").replace("</em>", "")
    return env


templates = Jinja2Templates(env=_environment())


def console_of(request: Request) -> Console:
    return request.app.state.console


def session_of(request: Request) -> Session:
    session = getattr(request.state, "session", None)
    if session is None:  # the middleware lets no request without a session this far
        raise HTTPException(401, "not logged in")
    return session


def require(request: Request, role: str) -> User:
    user = session_of(request).user
    if not user.has_role(role):
        raise HTTPException(403, f"this page is for the {role} role and above; {user.name} is an {user.role}")
    return user


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after its CSRF token is checked against the session's (403 without it)."""
    form = await request.form()
    token = form.get("csrf_token")
    if not tokens_equal(token if isinstance(token, str) else None, session_of(request).csrf):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page and try again")
    return form


def check_csrf_header(request: Request) -> None:
    if not tokens_equal(request.headers.get("x-csrf-token"), session_of(request).csrf):
        raise HTTPException(403, "the request's X-CSRF-Token header is missing or wrong")


async def page(request: Request, template: str, status_code: int = 200, /, **context: Any) -> Response:
    """A page with the header every page shows: who is logged in and how many items they have seen today."""
    console = console_of(request)
    session = getattr(request.state, "session", None)
    seen = await console.run(console.seen.count, session.user.name) if session else 0
    limit = console.settings.console.daily_limit
    context.setdefault("notice", None)
    context.setdefault("error", None)
    return templates.TemplateResponse(request, template, {
        "user": session.user if session else None, "csrf": session.csrf if session else "",
        "seen_today": seen, "daily_limit": limit, "over_limit": bool(limit) and seen >= limit,
        "queues": QUEUES, **context}, status_code=status_code)


def set_session_cookie(response: Response, console: Console, session_id: str) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, max_age=int(console.settings.console.session_hours * 3600),
                        httponly=True, samesite="strict", secure=console.settings.console.https, path="/")


class Gate(BaseHTTPMiddleware):
    """Sessions (from the cookie, or a trusted proxy's header when configured) and security headers."""

    async def dispatch(self, request: Request, call_next):
        console = console_of(request)
        path = request.url.path
        request.state.session = None
        new_session: str | None = None
        if not path.startswith(PUBLIC_PATHS):
            cookie = request.cookies.get(SESSION_COOKIE)
            session = await console.run(console.sessions.get, cookie)
            header = console.settings.console.trusted_proxy_header
            proxied = request.headers.get(header) if header else None
            if proxied is not None and (session is None or session.user.name != proxied):
                user = await console.run(console.accounts.get, proxied)
                if user is None or user.disabled:
                    return self.secured(PlainTextResponse(
                        f"the proxy logged in {proxied!r}, which has no enabled console account "
                        "(`vigil users add`)", 403))
                new_session = await console.run(console.sessions.create, user, self.address(request))
                session = await console.run(console.sessions.get, new_session)
            if session is None:
                if wants_json(request):
                    return self.secured(JSONResponse({"error": "not logged in"}, 401))
                target = path + (f"?{request.url.query}" if request.url.query else "")
                return self.secured(RedirectResponse(f"/login?{urlencode({'next': target})}", 303))
            request.state.session = session
        response = await call_next(request)
        if new_session:
            set_session_cookie(response, console, new_session)
        return self.secured(response)

    @staticmethod
    def address(request: Request) -> str:
        return request.client.host if request.client else ""

    @staticmethod
    def secured(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not response.headers.get("content-type", "").startswith(("text/css", "text/javascript")):
            response.headers.setdefault("Cache-Control", "no-store")
        return response


