"""The operator pages (operator and admin roles): precision of flags, decisions per reviewer per day, flag
rates by source, alerts, the dead-letter topic with its re-drive, and the audit log."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from streams.config import VigilSettings
from streams.dead_letters import DeadLetterReport, inspect, redrive
from streams.transports import open_transport
from vigil.console.reports import decisions_per_day, flag_rates, precision_by_model
from vigil.console.web import checked_form, console_of, page, require

DECISION_DAYS = 14
AUDIT_LIMIT = 200


def _audit(store, **filters) -> list[dict] | None:
    """The store's audit log, newest first (None: this store has none)."""
    audit_log = getattr(store, "audit_log", None)
    return audit_log(**filters) if audit_log else None


def _overview(store) -> dict:
    since = datetime.now(timezone.utc) - timedelta(days=DECISION_DAYS)
    events = _audit(store, since=since, limit=10_000)
    days, per_reviewer = decisions_per_day(events or [])
    return {"precision": precision_by_model(store.reviewed()), "days": days, "per_reviewer": per_reviewer,
            "has_audit": events is not None, "rates": flag_rates(store), "alerts": store.recent_alerts(20),
            "decision_days": DECISION_DAYS}


async def overview(request: Request) -> Response:
    require(request, "operator")
    console = console_of(request)
    context = await console.run(_overview, console.store)
    return await page(request, "operator.html", **context)


def _dead_letters(settings: VigilSettings) -> DeadLetterReport:
    with open_transport(settings) as transport:
        transport.ensure_topics([settings.topics.dlq])
        return inspect(settings, transport, latest=20)


def _redrive(settings: VigilSettings, stage: str | None) -> dict[str, int]:
    with open_transport(settings) as transport:
        transport.ensure_topics([settings.topics.dlq])
        return dict(redrive(settings, transport, stage))


async def dead_letters(request: Request) -> Response:
    require(request, "operator")
    console = console_of(request)
    report = await console.run(_dead_letters, console.settings)
    stages = sorted({stage for stage, _ in report.by_stage_and_error})
    done = request.query_params.get("redriven")
    return await page(request, "dead_letters.html", report=report, stages=stages,
                      notice=f"Re-drive: {done}" if done else None)


async def dead_letters_redrive(request: Request) -> Response:
    require(request, "operator")
    form = await checked_form(request)
    console = console_of(request)
    stage = str(form.get("stage") or "") or None
    counts = await console.run(_redrive, console.settings, stage)
    summary = ", ".join(f"{count} {what}" for what, count in counts.items()) or "nothing to re-drive"
    return RedirectResponse(f"/operator/dead-letters?{urlencode({'redriven': summary})}", 303)


def _when(text: str | None, name: str) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"{name}: not an ISO date or time: {text!r} (like 2026-11-28 or "
                            "2026-11-28T10:00)") from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


async def audit(request: Request) -> Response:
    require(request, "operator")
    console = console_of(request)
    params = request.query_params
    filters = {"reviewer": params.get("reviewer") or None, "document_id": params.get("document") or None,
               "since": _when(params.get("since"), "since"), "until": _when(params.get("until"), "until"),
               "limit": AUDIT_LIMIT}
    events = await console.run(_audit, console.store, **filters)
    return await page(request, "audit.html", events=events, params=params, limit=AUDIT_LIMIT)


def routes() -> list[Route]:
    return [
        Route("/operator", overview),
        Route("/operator/dead-letters", dead_letters, methods=["GET"]),
        Route("/operator/dead-letters/redrive", dead_letters_redrive, methods=["POST"]),
        Route("/operator/audit", audit),
    ]
