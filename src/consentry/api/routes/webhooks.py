"""Webhook endpoints (webhooks:manage): register, list, disable/enable, the delivery log,
redeliver."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from consentry.api.deps import HubDep, WebhooksManage
from consentry.api.json_route import JsonRoute
from consentry.api.writes import write
from consentry.schemas.webhooks import DeliveryOut, EndpointCreated, EndpointIn, EndpointOut
from consentry.services import webhooks

router = APIRouter(route_class=JsonRoute, prefix="/v1/webhooks", tags=["webhooks"])


@router.post("", status_code=201, response_model=EndpointCreated)
async def create_endpoint(
    hub: HubDep, caller: WebhooksManage, body: EndpointIn, request: Request
) -> Response:
    """Register an endpoint; the answer shows its signing secret, once. Changes are sent from
    now on, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)."""
    return await write(
        hub,
        request,
        caller,
        body,
        201,
        lambda conn: webhooks.create_endpoint(hub, conn, caller, body),
    )


@router.get("", response_model=list[EndpointOut])
def list_endpoints(hub: HubDep, caller: WebhooksManage) -> object:
    """The caller's endpoints (admin: every app's) with their health: deliveries by status,
    failing since, disabled and why. Another app's endpoint answers 404 on every route."""
    return webhooks.list_endpoints(hub, caller)


@router.get("/{endpoint_id}", response_model=EndpointOut)
def get_endpoint(hub: HubDep, caller: WebhooksManage, endpoint_id: str) -> object:
    return webhooks.get_endpoint(hub, caller, endpoint_id)


@router.delete("/{endpoint_id}")
async def delete_endpoint(
    hub: HubDep, caller: WebhooksManage, endpoint_id: str, request: Request
) -> Response:
    return await write(
        hub,
        request,
        caller,
        None,
        200,
        lambda conn: webhooks.delete_endpoint(hub, conn, caller, endpoint_id),
    )


@router.post("/{endpoint_id}/enable", response_model=EndpointOut)
async def enable_endpoint(
    hub: HubDep, caller: WebhooksManage, endpoint_id: str, request: Request
) -> Response:
    """Turn an endpoint that was disabled for failing back on."""
    return await write(
        hub,
        request,
        caller,
        None,
        200,
        lambda conn: webhooks.enable_endpoint(hub, conn, caller, endpoint_id),
    )


@router.get("/{endpoint_id}/deliveries", response_model=list[DeliveryOut])
def list_deliveries(
    hub: HubDep,
    caller: WebhooksManage,
    endpoint_id: str,
    status: str | None = Query(None, pattern="^(pending|delivering|delivered|dead)$"),
    limit: int = Query(100, ge=1, le=1000),
) -> object:
    """The delivery log, newest first: status, attempts, last status code, error and timing."""
    return webhooks.deliveries(hub, caller, endpoint_id, status, limit)


@router.post("/{endpoint_id}/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut)
async def redeliver(
    hub: HubDep, caller: WebhooksManage, endpoint_id: str, delivery_id: str, request: Request
) -> Response:
    """Send a delivery again (the same webhook-id), with three fresh days of retries."""
    return await write(
        hub,
        request,
        caller,
        None,
        200,
        lambda conn: webhooks.redeliver(hub, conn, caller, endpoint_id, delivery_id),
    )
