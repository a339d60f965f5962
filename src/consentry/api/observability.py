"""Each request's id and its measurements: the id is taken from ``X-Request-ID`` (when it is a
plain token) or made, answered in the same header and put on every log line written while the
request runs; the answer's time and status are counted per route template (never per path: a
path holds customer ids, and one series per customer would swamp Prometheus)."""

from __future__ import annotations

import contextvars
import itertools
import logging
import re
import secrets
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry.services.metrics import LATENCY, REQUESTS

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_PLAIN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# A request id made here: this process's random prefix and a counter (unique across processes
# and restarts, and ten times cheaper than a uuid4 on a path that runs for every request).
_PREFIX = secrets.token_hex(8)
_NEXT = itertools.count(1)
# The routes answered before FastAPI's router (api/direct.py) name their template here.
ROUTE_KEY = "consentry.route"


class RequestIdFilter(logging.Filter):
    """Puts the running request's id (or None) on every log record as ``request_id``."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        return True


def _template(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None) or scope.get(ROUTE_KEY)
    return str(path) if path else "unmatched"


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        request_id = given if _PLAIN.match(given) else f"{_PREFIX}{next(_NEXT):08x}"
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # what the server answers if the app raises before it answers

        async def tagged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            counted, timed = _series(method, _template(scope), status)
            counted.inc()
            timed.observe(time.perf_counter() - started)
            REQUEST_ID.reset(token)


# A client chooses the method: an unknown one is "other", or each would make a series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# The labelled series, looked up once each (the library's look-up takes a lock every time).
_SERIES: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _series(method: str, route: str, status: int) -> tuple[Any, Any]:
    found = _SERIES.get((method, route, status))
    if found is None:
        found = (REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route))
        _SERIES[(method, route, status)] = found
    return found
