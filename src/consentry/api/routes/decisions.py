"""Decisions: which offers for this customer now, and why; the customer's "not relevant"."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from consentry.api.deps import DecisionsRead, HubDep, PreferencesWrite, SubjectsManage
from consentry.api.json_route import JsonRoute
from consentry.api.writes import write
from consentry.domain.access import Caller
from consentry.schemas.offers import DecisionIn, DecisionOut, Dismissal
from consentry.services import decisions
from consentry.services.hub import Hub

router = APIRouter(route_class=JsonRoute, prefix="/v1/customers/{customer_id}", tags=["decisions"])


@router.post("/decisions", response_model=DecisionOut)
async def decide(hub: HubDep, caller: DecisionsRead, customer_id: str, body: DecisionIn) -> object:
    """Ranked offers for this channel and context, each with its reasons (the facts used, their
    provenance and the consent that allowed them); or none, with why. Every decision is
    logged (the export shows it) and counts towards the channel's cap. A reason resting on
    purposes the app is not bound to comes without its facts or its text."""
    decision = await decisions.decide_soon(hub, caller.app_id, customer_id, body)
    return decisions.decision_for(caller, decision)


@router.get("/decisions")
def list_decisions(hub: HubDep, _caller: SubjectsManage, customer_id: str) -> object:
    """The customer's decisions, newest first, with their reasons."""
    return decisions.decisions_for(hub, customer_id)


@router.post("/offers/{offer_id}/dismiss", response_model=Dismissal)
async def dismiss_offer(
    hub: HubDep, caller: PreferencesWrite, customer_id: str, offer_id: str, request: Request
) -> Response:
    """ "Not relevant": never choose this offer for this customer again."""
    return await _dismissal(hub, caller, customer_id, offer_id, request, dismissed=True)


@router.post("/offers/{offer_id}/restore", response_model=Dismissal)
async def restore_offer(
    hub: HubDep, caller: PreferencesWrite, customer_id: str, offer_id: str, request: Request
) -> Response:
    """Take a "not relevant" back."""
    return await _dismissal(hub, caller, customer_id, offer_id, request, dismissed=False)


async def _dismissal(
    hub: Hub, caller: Caller, customer_id: str, offer_id: str, request: Request, *, dismissed: bool
) -> Response:
    return await write(
        hub,
        request,
        caller,
        None,
        200,
        lambda conn: decisions.set_dismissed(hub, conn, customer_id, offer_id, dismissed),
        customer_id=customer_id,
    )
