"""How a write route answers: one transaction, honouring Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.responses import Response

from consentry.domain.access import Caller
from consentry.domain.canonical import canonical_json
from consentry.services.hub import Hub
from consentry.services.idempotency import request_hash, run_write


async def write(
    hub: Hub,
    request: Request,
    caller: Caller,
    body: BaseModel | None,
    status: int,
    use_case: Callable[[Connection], object],
) -> Response:
    payload = canonical_json(body.model_dump(mode="json")) if body is not None else b""
    answer = await run_write(
        hub,
        caller.app_id,
        request.headers.get("idempotency-key"),
        request_hash(request.method, request.url.path, payload),
        status,
        use_case,
    )
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(
        answer.body, status_code=answer.status, media_type="application/json", headers=headers
    )
