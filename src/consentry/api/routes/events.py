from __future__ import annotations

from fastapi import APIRouter

from consentry.api.deps import EventsWrite, HubDep, PreferencesWrite, SubjectsManage
from consentry.api.json_route import JsonRoute
from consentry.schemas.events import EventBatch, EventOut, EventsAccepted
from consentry.services import events

router = APIRouter(route_class=JsonRoute, tags=["events"])


@router.post("/v1/events", response_model=EventsAccepted)
def send_events(hub: HubDep, _caller: EventsWrite, body: EventBatch) -> object:
    """Up to 10,000 purchases, returns, store visits, product views and app opens. Every bad
    event is reported with its index and reason; the good ones are kept; an event sent again
    with the same ``id`` is kept once."""
    return events.ingest(hub, body.events)


@router.get("/v1/customers/{customer_id}/events", response_model=list[EventOut])
def customer_events(hub: HubDep, _caller: SubjectsManage, customer_id: str) -> object:
    """The customer's events, newest first."""
    return events.of_customer(hub, customer_id)


@router.post("/v1/customers/{customer_id}/events/{event_id}/exclude")
def exclude_event(
    hub: HubDep, _caller: PreferencesWrite, customer_id: str, event_id: str
) -> dict[str, object]:
    """The customer's wish: never use this event for their profile (a gift, say)."""
    return events.set_excluded(hub, customer_id, event_id, True)


@router.post("/v1/customers/{customer_id}/events/{event_id}/include")
def include_event(
    hub: HubDep, _caller: PreferencesWrite, customer_id: str, event_id: str
) -> dict[str, object]:
    """Take an exclusion back."""
    return events.set_excluded(hub, customer_id, event_id, False)
