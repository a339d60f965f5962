"""Double opt-in: the page a confirmation link opens, and its button (services/confirming.py).
A GET only shows the page — mail scanners open every link — and the customer's POST confirms."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from consentry.api.deps import HubDep
from consentry.api.json_route import JsonRoute
from consentry.api.routes.centre import language_of, page_for, words_for
from consentry.api.wording import wording
from consentry.domain.consent import ALL_CHANNELS
from consentry.services import confirmations, confirming
from consentry.services.confirmations import Outcome
from consentry.services.hub import Hub

router = APIRouter(route_class=JsonRoute, tags=["preference centre"], include_in_schema=False)


@router.get("/c/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, hub: HubDep, token: str) -> Response:
    row, problem = confirmations.peek(hub, token)
    if row is None or problem is not None:
        return _outcome(request, hub, problem or Outcome.INVALID)
    _ = words_for(request)
    w = wording(hub, language_of(request), _)
    return page_for(
        request,
        hub,
        "confirm.html",
        token=token,
        purpose=w.purpose(row.purpose),
        channel=w.channel(None if row.channel == ALL_CHANNELS else row.channel),
    )


@router.post("/c/{token}", response_class=HTMLResponse)
def confirm(request: Request, hub: HubDep, token: str) -> Response:
    return _outcome(request, hub, confirming.confirm(hub, token))


def _outcome(request: Request, hub: Hub, outcome: Outcome) -> HTMLResponse:
    _ = words_for(request)
    heading, text, status = {
        Outcome.CONFIRMED: (
            _("Thank you: confirmed"),
            _("You will hear from us as you asked. You can change this at any time."),
            200,
        ),
        Outcome.ALREADY: (
            _("Already confirmed"),
            _("You confirmed this before. Nothing more to do."),
            200,
        ),
        Outcome.EXPIRED: (
            _("This link has expired"),
            _("Nothing was subscribed. Sign up again if you still want it."),
            410,
        ),
        Outcome.REPLACED: (
            _("You chose again since"),
            _("A later choice of yours replaced this one, so it was not confirmed."),
            409,
        ),
        Outcome.INVALID: (
            _("This link is not valid"),
            _("Nothing was subscribed. Sign up again if you still want it."),
            404,
        ),
    }[outcome]
    return page_for(
        request, hub, "message.html", status, heading=heading, text=text, offer_link=False
    )
