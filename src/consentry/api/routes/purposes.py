from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from consentry.api.deps import Admin, AnyApp, HubDep
from consentry.api.json_route import JsonRoute
from consentry.api.writes import write
from consentry.schemas.purposes import (
    PurposeCreate,
    PurposeDetail,
    PurposeOut,
    PurposePage,
    PurposeUpdate,
)
from consentry.services import purposes

router = APIRouter(route_class=JsonRoute, prefix="/v1/purposes", tags=["purposes"])


@router.post("", status_code=201, response_model=PurposeOut)
async def create_purpose(
    hub: HubDep, caller: Admin, body: PurposeCreate, request: Request
) -> Response:
    return await write(
        hub, request, caller, body, 201, lambda conn: purposes.create(hub, conn, body)
    )


@router.put("/{purpose_id}", response_model=PurposeOut)
async def update_purpose(
    hub: HubDep, caller: Admin, purpose_id: str, body: PurposeUpdate, request: Request
) -> Response:
    """A changed title or description publishes notice version n+1; with ``reconsent`` earlier
    grants read as stale until granted again."""
    return await write(
        hub, request, caller, body, 200, lambda conn: purposes.update(hub, conn, purpose_id, body)
    )


@router.get("", response_model=PurposePage)
def list_purposes(
    hub: HubDep, _caller: AnyApp, limit: int = Query(100), after: str | None = None
) -> object:
    return purposes.list_page(hub, after, limit)


@router.get("/{purpose_id}", response_model=PurposeDetail)
def get_purpose(hub: HubDep, _caller: AnyApp, purpose_id: str) -> object:
    """The purpose with every notice version it has published."""
    return purposes.get(hub, purpose_id)
