"""CORS for the collection points' public routes: a form embedded in the retailer's shop
(another origin) reads its definition and posts its submission here. Each point lists the
origins allowed to; any other origin gets no Access-Control-Allow-Origin, and its POST is
refused before anything is read or written.

Starlette's CORSMiddleware takes one fixed list of origins for the whole app; here the list
is each point's own, read from the database, so the check is written out below."""

from __future__ import annotations

import asyncio
import re

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from consentry.api.problems import problem
from consentry.services import collection_points
from consentry.services.hub import Hub

_PUBLIC = re.compile(r"^/v1/collection-points/([A-Za-z0-9_]{1,40})/(form|submissions)$")
_MAX_AGE = "600"


class CollectionPointCors:
    def __init__(self, app: ASGIApp, hub: Hub) -> None:
        self.app = app
        self.hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = _PUBLIC.match(scope.get("path", "")) if scope["type"] == "http" else None
        origin = _header(scope, b"origin") if found else None
        if found is None or origin is None:
            await self.app(scope, receive, send)
            return
        allowed = await asyncio.to_thread(
            collection_points.allowed_origin, self.hub, found.group(1), origin
        )
        if scope["method"] == "OPTIONS":  # the browser's preflight
            headers = _allow(origin) if allowed else {}
            headers["Access-Control-Allow-Methods"] = "GET, POST"
            headers["Access-Control-Allow-Headers"] = "authorization, content-type"
            headers["Access-Control-Max-Age"] = _MAX_AGE
            await _respond(204 if allowed else 403, headers, scope, receive, send)
            return
        if not allowed:
            refused = problem(
                403,
                "Forbidden",
                f"{origin} is not one of this collection point's origins",
                "forbidden",
                headers={"Vary": "Origin"},
            )
            await refused(scope, receive, send)
            return

        async def with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in _allow(origin).items()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_cors)


def _allow(origin: str) -> dict[str, str]:
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _respond(
    status: int, headers: dict[str, str], scope: Scope, receive: Receive, send: Send
) -> None:
    await Response(status_code=status, headers=headers)(scope, receive, send)
