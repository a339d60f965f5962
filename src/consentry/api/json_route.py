"""Request bodies parsed by orjson instead of the standard library's json.

The standard parser accepts what is not text: a lone surrogate (``"\\udc00"``) becomes a Python
string that cannot be encoded, sealed, hashed or stored, and fails far from the input, as a 500.
orjson refuses such a body at the door (its error is a json.JSONDecodeError, which FastAPI
answers as malformed JSON, 400); it is also faster. Every router uses this route class."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response


class OrjsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class JsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def with_orjson(request: Request) -> Response:
            return await handler(OrjsonRequest(request.scope, request.receive))

        return with_orjson


def json_answer(content: Any, status_code: int = 200) -> Response:
    """A JSON answer written by orjson. A route that returns it skips FastAPI's second pass
    through its response model (validation, then serialisation): the services' answers are
    already the documents the models describe, and the contract tests hold them to it."""
    return Response(orjson.dumps(content), status_code, media_type="application/json")
