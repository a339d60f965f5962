"""The two hot routes' own way in: GET /v1/check and POST /v1/customers/{id}/consents go
straight to their handlers.

Why: FastAPI's way to a handler — the router matching the path against every route, the
dependency solver (which parses the query and the cookies, and builds a response object for
dependencies even for a handler that declares none), and the exception and exit-stack
middlewares — cost more server CPU than the check itself: under load on PostgreSQL a check
took 2.2 times the CPU of the bare endpoint. Taken straight to the same handler, checks went
from 5,203 / 4,821 to 6,609 / 7,133 requests/s in pairs run back to back, and consent changes
from 706 / 753 to 875 / 931 (2026-12-04, PostgreSQL, 1,000,000 customers, 32 connections;
bench/results/ab_check_postgres_check_path.json, ab_write_postgres_direct_write.json).

Nothing else changes. The routes stay declared (the OpenAPI document shows them). The check's
handler is the same function; its errors become the same problem documents, by the handlers
``problems.install`` registered with the app. A consent change takes this way only when it is
well-formed and its key may write consent; any other request (bad JSON, another content type,
a body the schema refuses, a missing or weak key) is handed to FastAPI with its body, so every
error answer is FastAPI's own. Every other route goes the usual way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry.api.deps import bearer, hub_of
from consentry.api.routes.checks import check
from consentry.api.routes.consents import record
from consentry.domain.access import Scope as AppScope
from consentry.domain.errors import DomainError
from consentry.schemas import ConsentChange
from consentry.services import apps

_CONSENTS = ("", "v1", "customers", None, "consents")
Handler = Callable[[Request], Awaitable[Response]]


class DirectRoutes:
    def __init__(self, app: ASGIApp, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if scope["method"] == "GET" and scope["path"] == "/v1/check":
                await self._answer(scope, receive, send, check)
                return
            if scope["method"] == "POST" and (customer_id := _consents_of(scope["path"])):
                await self._record_consent(scope, receive, send, customer_id)
                return
        await self.app(scope, receive, send)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, handler: Handler) -> None:
        request = Request(scope, receive)
        try:
            response = await handler(request)
        except Exception as exc:
            response = await self._problem(request, exc)
        await response(scope, receive, send)

    async def _record_consent(
        self, scope: Scope, receive: Receive, send: Send, customer_id: str
    ) -> None:
        request = Request(scope, receive)
        if request.headers.get("content-type") != "application/json":
            await self.app(scope, receive, send)
            return
        try:
            raw = await request.body()
        except ClientDisconnect:
            return
        except Exception as exc:  # the body-size limit's 413
            await (await self._problem(request, exc))(scope, receive, send)
            return
        hub = hub_of(request)
        caller = None
        try:
            body = ConsentChange.model_validate(orjson.loads(raw))
            caller = await apps.authenticate(
                hub, bearer(request), request.app.state.check_batch.app
            )
        except (ValueError, ValidationError, DomainError):
            pass  # FastAPI's way gives the answer: the body's errors, or the key's
        except Exception as exc:  # the database did not answer: 503, as FastAPI's way would
            await (await self._problem(request, exc))(scope, receive, send)
            return
        if caller is None or not caller.has(AppScope.CONSENTS_WRITE):
            await self.app(scope, _replaying(raw, receive), send)
            return
        await self._answer(
            scope, receive, send, lambda _: record(hub, request, caller, customer_id, body)
        )

    async def _problem(self, request: Request, exc: Exception) -> Response:
        """The answer the app's exception handlers give ``exc`` (the nearest class's)."""
        handlers = self.fastapi.exception_handlers
        for cls in type(exc).__mro__:
            handler = handlers.get(cls)
            if handler is not None:
                answer = await handler(request, exc)  # type: ignore[misc]
                assert isinstance(answer, Response)
                return answer
        raise exc


def _consents_of(path: str) -> str | None:
    """The customer id of a /v1/customers/{id}/consents path, else None."""
    parts = path.split("/")
    if len(parts) != len(_CONSENTS) or not parts[3]:
        return None
    if any(want is not None and part != want for part, want in zip(parts, _CONSENTS, strict=True)):
        return None
    return parts[3]


def _replaying(raw: bytes, receive: Receive) -> Receive:
    """``receive`` for a request whose body was read already: the body once, then the rest."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replay
