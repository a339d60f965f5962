from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from consentry.api.deps import ConsentsRead, ConsentsWrite, HubDep
from consentry.api.json_route import JsonRoute, json_answer
from consentry.api.writes import write
from consentry.domain.access import Caller
from consentry.schemas.consents import (
    ConsentChange,
    ConsentChanged,
    ConsentList,
    History,
    WithdrawAll,
    WithdrewAll,
)
from consentry.services import confirmations, consents, reads
from consentry.services.hub import Hub

router = APIRouter(
    route_class=JsonRoute, prefix="/v1/customers/{customer_id}/consents", tags=["consents"]
)


@router.post("", status_code=201, response_model=ConsentChanged)
async def record_consent(
    hub: HubDep, caller: ConsentsWrite, customer_id: str, body: ConsentChange, request: Request
) -> Response:
    """Grant or withdraw one purpose (one channel, or all when ``channel`` is omitted).
    The evidence record and the new state are written together; the answer means durable.
    Well-formed changes reach ``record`` past FastAPI's routing (api/direct)."""
    return await record(hub, request, caller, customer_id, body)


async def record(
    hub: Hub, request: Request, caller: Caller, customer_id: str, body: ConsentChange
) -> Response:
    answer = await write(
        hub,
        request,
        caller,
        body,
        201,
        lambda conn: consents.record_change(hub, conn, caller, customer_id, body),
        customer_id=customer_id,
    )
    if answer.status_code == 201 and b'"action":"request"' in answer.body:
        confirmations.send_soon(hub, customer_id)  # double opt-in: the link to confirm
    return answer


@router.post("/withdraw-all", status_code=201, response_model=WithdrewAll)
async def withdraw_all(
    hub: HubDep, caller: ConsentsWrite, customer_id: str, body: WithdrawAll, request: Request
) -> Response:
    """Opt out of everything in one step: one evidence record per withdrawal."""
    return await write(
        hub,
        request,
        caller,
        body,
        201,
        lambda conn: consents.withdraw_all(hub, conn, caller, customer_id, body),
        customer_id=customer_id,
    )


@router.get("", response_model=ConsentList)
async def list_consents(hub: HubDep, caller: ConsentsRead, customer_id: str) -> Response:
    """The state of each of the caller's purposes, per channel."""
    return json_answer(await reads.consents(hub, caller, customer_id))


@router.get("/history", response_model=History)
async def consent_history(
    hub: HubDep,
    caller: ConsentsRead,
    customer_id: str,
    limit: int = Query(100),
    after: str | None = None,
) -> Response:
    """The customer's evidence records, oldest first."""
    return json_answer(await reads.history(hub, caller, customer_id, after, limit))
