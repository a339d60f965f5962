"""Erasure reaching every app: which apps hold customer data, each erasure's confirmations."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from consentry.api.deps import Admin, AnyApp, HubDep, SubjectsManage
from consentry.api.json_route import JsonRoute
from consentry.api.writes import write
from consentry.schemas.common import Strict
from consentry.services import erasures

router = APIRouter(route_class=JsonRoute, tags=["erasure"])


class DataHolder(Strict):
    holds_customer_data: bool


class DataHolderOut(BaseModel):
    app: str
    holds_customer_data: bool


@router.put("/v1/apps/{app_id}/data-holder", response_model=DataHolderOut)
async def declare_data_holder(
    hub: HubDep, caller: Admin, app_id: str, body: DataHolder, request: Request
) -> Response:
    """Declare that an app holds customer data (or no longer does): every later erasure then
    waits for its confirmation."""
    return await write(
        hub,
        request,
        caller,
        body,
        200,
        lambda conn: erasures.declare(hub, conn, app_id, body.holds_customer_data),
    )


@router.get("/v1/erasures")
def pending_erasures(
    hub: HubDep, _caller: SubjectsManage, limit: int = Query(100, ge=1, le=1000)
) -> object:
    """Erasures that some app has not confirmed yet: deleted from …, pending at …"""
    return erasures.pending(hub, limit)


@router.get("/v1/erasures/{erasure_id}")
def get_erasure(hub: HubDep, _caller: SubjectsManage, erasure_id: str) -> object:
    return erasures.get(hub, erasure_id)


@router.post("/v1/erasures/{erasure_id}/ack")
async def acknowledge_erasure(
    hub: HubDep, caller: AnyApp, erasure_id: str, request: Request
) -> Response:
    """The calling app confirms it has deleted the customer's data."""
    return await write(
        hub,
        request,
        caller,
        None,
        200,
        lambda conn: erasures.acknowledge(hub, conn, caller, erasure_id),
    )
