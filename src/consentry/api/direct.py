"""The hot routes' own way in: the check, a consent change, and the apps' everyday reads of one
customer go straight to their handlers.

Why: FastAPI's way to a handler — the router matching the path against every route, the
dependency solver (which parses the query and the cookies, and builds a response object for
dependencies even for a handler that declares none), and the exception and exit-stack
middlewares — cost more server CPU than the check itself: under load on PostgreSQL a check
took 2.2 times the CPU of the bare endpoint. Taken straight to the same handler, checks went
from 5,203 / 4,821 to 6,609 / 7,133 requests/s in pairs run back to back, and consent changes
from 706 / 753 to 875 / 931 (2026-12-04, PostgreSQL, 1,000,000 customers, 32 connections;
bench/results/ab_check_postgres_check_path.json, ab_write_postgres_direct_write.json). The
reads (look-up, profile, consents, history, answers, points) had the same overhead over a
one-statement read: routing and dependencies alone were some 300 µs a request (issue 25;
bench/bench_reads.py).

Nothing else changes. The routes stay declared (the OpenAPI document shows them). The handlers
are the same functions; their errors become the same problem documents, by the handlers
``problems.install`` registered with the app. A request takes this way only when it is
well-formed and its key holds the route's scope; any other request (bad JSON, another content
type, a body the schema refuses, a query FastAPI would refuse or read differently, a missing
or weak key) is handed to FastAPI with its body, so every error answer is FastAPI's own.
Every other route goes the usual way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI
from pydantic import ValidationError
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry.api.deps import bearer, hub_of
from consentry.api.json_route import json_answer
from consentry.api.observability import ROUTE_KEY
from consentry.api.routes.changes import FEED_READERS
from consentry.api.routes.checks import check
from consentry.api.routes.consents import record
from consentry.domain.access import Caller
from consentry.domain.access import Scope as AppScope
from consentry.domain.errors import DomainError
from consentry.schemas.consents import ConsentChange
from consentry.schemas.customers import LookupIn
from consentry.services import apps, changes, reads
from consentry.services.hub import Hub

_CONSENTS = ("", "v1", "customers", None, "consents")
Handler = Callable[[Request], Awaitable[Response]]
# A read's work: the hub, the caller, the customer's id and the query's limit and after.
Read = Callable[[Hub, Caller, str, int, str | None], Awaitable[Any]]
Query = tuple[int, str | None]

# The reads of one customer: the path after /v1/customers/{id}, the scopes of which the caller
# needs one (as the route's dependency in api/deps), and the work.
_READS: dict[tuple[str, ...], tuple[tuple[AppScope, ...], Read]] = {
    (): (
        (
            AppScope.CUSTOMERS_READ,
            AppScope.CUSTOMERS_WRITE,
            AppScope.CONSENTS_READ,
            AppScope.CONSENTS_WRITE,
        ),
        lambda hub, caller, cid, _limit, _after: reads.profile(hub, caller, cid),
    ),
    ("consents",): (
        (AppScope.CONSENTS_READ,),
        lambda hub, caller, cid, _limit, _after: reads.consents(hub, caller, cid),
    ),
    ("consents", "history"): (
        (AppScope.CONSENTS_READ,),
        lambda hub, caller, cid, limit, after: reads.history(hub, caller, cid, after, limit),
    ),
    ("answers",): (
        (AppScope.PREFERENCES_READ, AppScope.PREFERENCES_WRITE),
        lambda hub, caller, cid, _limit, _after: reads.answers(hub, caller, cid),
    ),
    ("points",): (
        (AppScope.PREFERENCES_READ, AppScope.PREFERENCES_WRITE),
        lambda hub, _caller, cid, limit, after: reads.points(hub, cid, after, limit),
    ),
}
_PAGED = {("consents", "history"), ("points",)}


class DirectRoutes:
    def __init__(self, app: ASGIApp, fastapi: FastAPI) -> None:
        self.app = app
        self.fastapi = fastapi

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            if method == "GET":
                if path == "/v1/check":
                    scope[ROUTE_KEY] = path
                    await self._answer(scope, receive, send, check)
                    return
                if path == "/v1/changes":
                    scope[ROUTE_KEY] = path
                    await self._changes(scope, receive, send)
                    return
                if read := _read_of(path):
                    scope[ROUTE_KEY] = "/".join(("/v1/customers/{customer_id}", *read[1]))
                    await self._read(scope, receive, send, *read)
                    return
            elif method == "POST":
                if path == "/v1/customers/lookup":
                    scope[ROUTE_KEY] = path
                    await self._lookup(scope, receive, send)
                    return
                if customer_id := _consents_of(path):
                    scope[ROUTE_KEY] = "/v1/customers/{customer_id}/consents"
                    await self._record_consent(scope, receive, send, customer_id)
                    return
        await self.app(scope, receive, send)

    async def _caller(self, request: Request, scopes: tuple[AppScope, ...]) -> Caller | None:
        """The caller, if its key holds one of ``scopes``; else None (FastAPI's way answers).
        The database's failure is raised (a 503, as FastAPI's way would answer)."""
        try:
            caller = await apps.authenticate(
                hub_of(request), bearer(request), request.app.state.check_batch.app
            )
        except DomainError:
            return None
        return caller if any(caller.has(s) for s in scopes) else None

    async def _read(
        self, scope: Scope, receive: Receive, send: Send, customer_id: str, rest: tuple[str, ...]
    ) -> None:
        request = Request(scope, receive)
        scopes, read = _READS[rest]
        query = _paging(request) if rest in _PAGED else (0, None)
        hub = hub_of(request)
        work = None if query is None else (lambda c: read(hub, c, customer_id, *query))
        await self._serve(scope, receive, send, request, scopes, work)

    async def _changes(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A page of the change feed; a long poll (``wait``) goes FastAPI's way."""
        request = Request(scope, receive)
        query = _paging(request, default_limit=1000)
        hub = hub_of(request)
        limit, after = query or (0, None)

        async def page(caller: Caller) -> Any:
            return await changes.wait_and_read(hub, caller, after, limit, 0.0)

        ready = query is not None and "wait" not in request.query_params
        await self._serve(scope, receive, send, request, FEED_READERS, page if ready else None)

    async def _lookup(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await self._body(scope, receive, send, request)
        if raw is None:
            return
        hub = hub_of(request)
        try:
            body = LookupIn.model_validate(orjson.loads(raw))
        except (ValueError, ValidationError):
            body = None

        async def look_up(caller: Caller) -> Any:
            assert body is not None
            return await reads.lookup(hub, caller, body)

        scopes = (AppScope.CUSTOMERS_READ,)
        work = look_up if body is not None else None
        await self._serve(scope, _replaying(raw, receive), send, request, scopes, work)

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        request: Request,
        scopes: tuple[AppScope, ...],
        work: Callable[[Caller], Awaitable[Any]] | None,
    ) -> None:
        """Answer with what ``work`` gives a caller holding one of ``scopes``. Without work
        (a request FastAPI would read otherwise), or without such a caller, FastAPI answers."""
        try:
            caller = await self._caller(request, scopes) if work is not None else None
        except Exception as exc:  # the database did not answer: 503, as FastAPI's way would
            await (await self._problem(request, exc))(scope, receive, send)
            return
        if work is None or caller is None:
            await self.app(scope, receive, send)
            return
        ready = work

        async def answer(_: Request) -> Response:
            return json_answer(await ready(caller))

        await self._answer(scope, receive, send, answer)

    async def _body(
        self, scope: Scope, receive: Receive, send: Send, request: Request
    ) -> bytes | None:
        """A JSON request's body; None when the request was answered already (another
        content type goes FastAPI's way, a body over the limit gets its 413)."""
        if request.headers.get("content-type") != "application/json":
            await self.app(scope, receive, send)
            return None
        try:
            return await request.body()
        except ClientDisconnect:
            return None
        except Exception as exc:  # the body-size limit's 413
            await (await self._problem(request, exc))(scope, receive, send)
            return None

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
        raw = await self._body(scope, receive, send, request)
        if raw is None:
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


def _read_of(path: str) -> tuple[str, tuple[str, ...]] | None:
    """(customer id, the path after it) of a read of one customer, else None."""
    parts = path.split("/")
    if len(parts) < 4 or parts[:3] != ["", "v1", "customers"] or not parts[3]:
        return None
    rest = tuple(parts[4:])
    return (parts[3], rest) if rest in _READS else None


def _paging(request: Request, default_limit: int = 100) -> Query | None:
    """``limit`` and ``after`` as FastAPI would read them, or None where it might read them
    otherwise (repeated, or a limit that is not plain digits)."""
    params = request.query_params
    limits, afters = params.getlist("limit"), params.getlist("after")
    if len(limits) > 1 or len(afters) > 1:
        return None
    if limits and not (limits[0].isascii() and limits[0].isdigit() and len(limits[0]) <= 9):
        return None
    return (int(limits[0]) if limits else default_limit, afters[0] if afters else None)


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
