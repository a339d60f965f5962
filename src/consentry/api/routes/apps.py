from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from consentry.api.deps import Admin, HubDep
from consentry.api.json_route import JsonRoute
from consentry.api.writes import write
from consentry.schemas.apps import AppCreate, AppCreated, AppOut, AppPage
from consentry.services import apps

router = APIRouter(route_class=JsonRoute, prefix="/v1/apps", tags=["apps"])


@router.post("", status_code=201, response_model=AppCreated)
async def create_app(hub: HubDep, caller: Admin, body: AppCreate, request: Request) -> Response:
    """Register an integration. The key is shown once; only its hash is kept."""
    return await write(
        hub,
        request,
        caller,
        body,
        201,
        lambda conn: apps.create(
            hub, conn, body.name, [s.value for s in body.scopes], body.purposes
        ),
    )


@router.get("", response_model=AppPage)
def list_apps(
    hub: HubDep, _caller: Admin, limit: int = Query(100), after: str | None = None
) -> object:
    return apps.list_page(hub, after, limit)


@router.delete("/{app_id}", response_model=AppOut)
async def revoke_app(hub: HubDep, caller: Admin, app_id: str, request: Request) -> Response:
    """Revoke at once: the next request with the app's key is refused."""
    return await write(hub, request, caller, None, 200, lambda conn: apps.revoke(hub, conn, app_id))
