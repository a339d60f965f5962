"""The catalogue, the offers and the real-time triggers: managed by admin, readable by apps
that show offers; the notifications the triggers record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection
from starlette.responses import Response

from consentry.api.deps import Admin, DecisionsRead, HubDep
from consentry.api.json_route import JsonRoute
from consentry.api.writes import write
from consentry.domain.triggers import Notify
from consentry.schemas.offers import (
    CatalogueIn,
    CatalogueLoaded,
    NotificationOut,
    NotificationPage,
    OfferIn,
    OfferOut,
    OfferPage,
    TriggersIn,
)
from consentry.services import catalogue, decisions, triggers

router = APIRouter(route_class=JsonRoute, tags=["offers"])


@router.put("/v1/catalogue", response_model=CatalogueLoaded)
async def replace_catalogue(
    hub: HubDep, caller: Admin, body: CatalogueIn, request: Request
) -> Response:
    """The whole catalogue — categories (sensitive branches marked), sensitive topics and
    products — replaced at once, all or nothing (a file of it: ``consentry catalogue load``)."""
    return await write(
        hub, request, caller, body, 200, lambda conn: catalogue.replace_catalogue(hub, conn, body)
    )


@router.get("/v1/catalogue/categories")
def list_categories(hub: HubDep, _caller: DecisionsRead) -> object:
    """Every category, with whether it is sensitive (by itself or an ancestor)."""
    return catalogue.categories_json(hub)


@router.post("/v1/offers", status_code=201, response_model=OfferOut)
async def create_offer(hub: HubDep, caller: Admin, body: OfferIn, request: Request) -> Response:
    return await write(
        hub, request, caller, body, 201, lambda conn: catalogue.create_offer(hub, conn, body)
    )


@router.put("/v1/offers/{offer_id}", response_model=OfferOut)
async def replace_offer(
    hub: HubDep, caller: Admin, offer_id: str, body: OfferIn, request: Request
) -> Response:
    """Change an offer (or bring a retired one back)."""
    return await write(
        hub,
        request,
        caller,
        body,
        200,
        lambda conn: catalogue.replace_offer(hub, conn, offer_id, body),
    )


@router.delete("/v1/offers/{offer_id}", response_model=OfferOut)
async def retire_offer(hub: HubDep, caller: Admin, offer_id: str, request: Request) -> Response:
    """Retire an offer: never chosen again; past decisions keep naming it."""
    return await write(
        hub, request, caller, None, 200, lambda conn: catalogue.retire_offer(hub, conn, offer_id)
    )


@router.get("/v1/offers", response_model=OfferPage)
def list_offers(
    hub: HubDep, _caller: DecisionsRead, limit: int = Query(100), after: str | None = None
) -> object:
    return catalogue.offer_page(hub, after, limit)


@router.get("/v1/offers/{offer_id}", response_model=OfferOut)
def get_offer(hub: HubDep, _caller: DecisionsRead, offer_id: str) -> object:
    return catalogue.get_offer(hub, offer_id)


@router.put("/v1/triggers")
async def replace_triggers(
    hub: HubDep, caller: Admin, body: TriggersIn, request: Request
) -> Response:
    """Every real-time trigger at once (docs/triggers.md); all or nothing."""
    return await write(
        hub, request, caller, body, 200, lambda conn: catalogue.replace_triggers(hub, conn, body)
    )


@router.get("/v1/triggers")
def list_triggers(hub: HubDep, _caller: DecisionsRead) -> object:
    return catalogue.triggers_json(hub)


@router.get("/v1/notifications", response_model=NotificationPage)
def pending_notifications(
    hub: HubDep,
    caller: DecisionsRead,
    notify: Notify,
    store: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> object:
    """Notifications the triggers recorded that are due now and not yet done: for one store's
    staff desk (notify=desk&store=…), or for the app or mailer that delivers pushes and
    e-mails (until the webhook outbox does). Reasons resting on purposes the app is not bound
    to come without their facts or text."""
    return {
        "notifications": [
            {**n, "reasons": decisions.reasons_for(caller, n["reasons"])}
            for n in triggers.pending(hub, notify, store, limit)
        ]
    }


@router.post("/v1/notifications/{notification_id}/done", response_model=NotificationOut)
async def notification_done(
    hub: HubDep, caller: DecisionsRead, notification_id: str, request: Request
) -> Response:
    """Delivered (or seen at the desk): taken off the pending list."""

    def done(conn: Connection) -> dict[str, Any]:
        notification = triggers.done(hub, conn, notification_id)
        return {**notification, "reasons": decisions.reasons_for(caller, notification["reasons"])}

    return await write(hub, request, caller, None, 200, done)
