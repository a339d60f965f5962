"""How a write route answers: one transaction, honouring Idempotency-Key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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
    *,
    customer_id: str | Callable[[Any], str] | None = None,
) -> Response:
    """``customer_id``: whom the answer is about (or how to find it in the answer), so that a
    stored answer is sealed under that customer's key and dies with it."""
    key = request.headers.get("idempotency-key")
    # The request's fingerprint is only compared when a key is sent: no hashing otherwise.
    fingerprint = ""
    if key is not None:
        payload = canonical_json(body.model_dump(mode="json")) if body is not None else b""
        fingerprint = request_hash(hub, request.method, request.url.path, payload)
    answer = await run_write(
        hub,
        caller.app_id,
        key,
        fingerprint,
        status,
        use_case,
        customer_id,
    )
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return Response(
        answer.body, status_code=answer.status, media_type="application/json", headers=headers
    )
