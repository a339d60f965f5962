from __future__ import annotations

import orjson
from fastapi import APIRouter
from starlette.responses import Response

from consentry.api.deps import ConsentsRead, HubDep
from consentry.schemas import BatchCheck, BatchCheckOut, CheckOut
from consentry.services import checks

router = APIRouter(prefix="/v1/check", tags=["checks"])


@router.get("", response_model=CheckOut)
def check(
    hub: HubDep, caller: ConsentsRead, customer: str, purpose: str, channel: str | None = None
) -> Response:
    """May this purpose be pursued for this customer on this channel, now?"""
    answer = checks.check(hub, caller, customer, purpose, channel)
    return Response(orjson.dumps(answer), media_type="application/json")


@router.post("/batch", response_model=BatchCheckOut)
def batch_check(hub: HubDep, caller: ConsentsRead, body: BatchCheck) -> Response:
    """Split up to 100,000 customers into allowed, denied and unknown: a suppression list."""
    answer = checks.batch_check(hub, caller, body.purpose, body.channel, body.customers)
    return Response(orjson.dumps(answer), media_type="application/json")
