"""Liveness and readiness, for load balancers and orchestrators."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from consentry.api.deps import HubDep, MetricsRead
from consentry.api.i18n import choose
from consentry.api.json_route import JsonRoute
from consentry.api.pages import render_page
from consentry.api.problems import problem
from consentry.services import metrics
from consentry.services.backlog import evidence_keeps_up
from consentry.services.hub import Hub

router = APIRouter(route_class=JsonRoute, tags=["health"])

# Readiness answers within this, whatever the database does.
READY_SECONDS = 2.0


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers (it touches nothing else; restart it if this fails)."""
    return {"status": "ok"}


def _touch(hub: Hub) -> None:
    with hub.db.read() as conn:
        conn.execute(text("SELECT 1"))


@router.get(
    "/readyz",
    responses={503: {"description": "The database does not answer: send no traffic here."}},
)
async def readyz(hub: HubDep) -> object:
    """Readiness: the database answers a query within two seconds (else 503
    ``database-unavailable``)."""
    try:
        await asyncio.wait_for(asyncio.to_thread(_touch, hub), READY_SECONDS)
    except Exception:  # a time-out or any database error: not ready, whatever the cause
        return _not_ready()
    return {"status": "ready", "database": "ok"}


def _not_ready() -> Response:
    return problem(
        503,
        "Service unavailable",
        "the database did not answer within two seconds",
        "database-unavailable",
        headers={"Retry-After": "1"},
    )


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
async def prometheus_metrics(hub: HubDep, _caller: MetricsRead) -> Response:
    """(metrics:read) Prometheus's text format: requests and their time per route template,
    checks, consent writes, webhook deliveries per endpoint, background step failures, the
    sequencer's lag, the outbox's and webhooks' backlog, the database pool, the witnesses'
    lag. No personal data. Prometheus sends the key as ``authorization: credentials``."""
    body = await asyncio.to_thread(metrics.exposition, hub)
    return Response(body, media_type=metrics.CONTENT_TYPE)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def landing(request: Request, hub: HubDep) -> HTMLResponse:
    """Where a newcomer lands: the customers' way in, the desk, the console, the API docs, and
    whether the evidence log keeps up (no figures: the log's size is for key holders)."""
    healthy = await asyncio.to_thread(evidence_keeps_up, hub)
    lang = choose(
        request.query_params.get("lang"),
        request.cookies.get("consentry_lang"),
        request.headers.get("accept-language"),
    )
    return HTMLResponse(render_page(hub, lang, "landing.html", log_healthy=healthy))


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> RedirectResponse:
    """Browsers ask for it on every site; the icon is the pages' own SVG."""
    return RedirectResponse("/static/favicon.svg", status_code=301)
