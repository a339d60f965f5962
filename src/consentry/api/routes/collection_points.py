"""Collection points: made and versioned by an admin; their form read, and their submissions
posted, by an embedded form (the point's publishable key, CORS in api/cors.py) or an app."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import Connection
from starlette.responses import Response

from consentry.api.deps import Admin, HubDep, bearer
from consentry.api.json_route import JsonRoute, json_answer
from consentry.api.writes import write
from consentry.domain.access import Caller, Scope
from consentry.domain.errors import TooManyRequests
from consentry.schemas.collection_points import (
    Form,
    PointIn,
    PointList,
    PointOut,
    SubmissionIn,
    SubmissionOut,
)
from consentry.services import apps, collection_points, confirmations, insights, web_access

router = APIRouter(
    route_class=JsonRoute, prefix="/v1/collection-points", tags=["collection points"]
)
PUBLISHABLE = "pk_"
# Submissions from browsers, per address and point, an hour.
SUBMISSIONS_PER_IP = 30
HOUR = 3_600_000_000


@router.post("", status_code=201, response_model=PointOut)
async def create_point(hub: HubDep, caller: Admin, body: PointIn, request: Request) -> Response:
    """A collection point, version 1, with its publishable key and embed snippet."""
    return await write(
        hub, request, caller, body, 201, lambda conn: collection_points.create(hub, conn, body)
    )


@router.put("/{point_id}", response_model=PointOut)
async def update_point(
    hub: HubDep, caller: Admin, point_id: str, body: PointIn, request: Request
) -> Response:
    """The point as it should be now: a change is a new version; submissions keep theirs."""
    return await write(
        hub,
        request,
        caller,
        body,
        200,
        lambda conn: collection_points.update(hub, conn, point_id, body),
    )


@router.get("", response_model=PointList)
def list_points(hub: HubDep, _caller: Admin) -> Response:
    return json_answer(collection_points.list_all(hub))


@router.get("/{point_id}", response_model=PointOut)
def get_point(hub: HubDep, _caller: Admin, point_id: str) -> Response:
    return json_answer(collection_points.get(hub, point_id))


@router.get("/{point_id}/rates")
def point_rates(
    hub: HubDep,
    _caller: Admin,
    point_id: str,
    first: date | None = Query(None, alias="from"),
    last: date | None = Query(None, alias="to"),
) -> Response:
    """Submissions and the share of each box ticked, per version and wording (k-anonymous)."""
    last = last or insights.today(hub)
    first = first or last - timedelta(days=364)
    return json_answer(collection_points.rates(hub, point_id, first, last))


@router.get("/{point_id}/form", response_model=Form)
def point_form(
    hub: HubDep,
    point_id: str,
    key: str = Query(max_length=64, description="The point's publishable key."),
    lang: str = Query("en", max_length=8),
    wording: str | None = Query(None, max_length=16),
) -> Response:
    """What the embedded form shows: the current version, in ``lang``, in one wording (one of
    two at random when the point compares two). Public with the publishable key."""
    return json_answer(collection_points.form(hub, point_id, key, lang, wording))


@router.options("/{point_id}/{part}", include_in_schema=False)
def preflight(point_id: str, part: str) -> Response:
    """Preflights from the point's origins are answered by api/cors.py; any other gets this."""
    return Response(status_code=403)


@dataclass(frozen=True)
class Submitter:
    """Who posts a submission: the point's form (its publishable key: ``app`` None) or an app."""

    caller: Caller
    app: Caller | None
    token: str | None


async def submitter(request: Request, hub: HubDep, point_id: str) -> Submitter:
    """Known before the body is read: the point's publishable key (rate-limited per address),
    else an app key holding consents:write."""
    token = bearer(request)
    if token is not None and token.startswith(PUBLISHABLE):
        # The key first: a request for no point, or with another's key, counts nowhere.
        await asyncio.to_thread(collection_points.published, hub, point_id, token)
        ip = request.client.host if request.client else "unknown"
        within = await asyncio.to_thread(
            web_access.allowed, hub, f"point:{point_id}:ip:{ip}", SUBMISSIONS_PER_IP, HOUR
        )
        if not within:
            raise TooManyRequests("too many submissions from this address; try again later")
        return Submitter(collection_points.publishing_caller(point_id), None, token)
    app = await apps.authenticate(hub, token, request.app.state.check_batch.app)
    app.require(Scope.CONSENTS_WRITE)
    return Submitter(app, app, token)


@router.post("/{point_id}/submissions", status_code=201, response_model=SubmissionOut)
async def submit(
    hub: HubDep,
    point_id: str,
    body: SubmissionIn,
    request: Request,
    who: Annotated[Submitter, Depends(submitter)],
) -> Response:
    """A form's submission: every box shown, ticked or not. With the publishable key (a
    browser) or an app key holding consents:write for every purpose shown."""
    origin = request.headers.get("origin")
    token, app, caller = who.token, who.app, who.caller
    found: list[collection_points.Submitted] = []

    def use_case(conn: Connection) -> object:
        done = collection_points.submit(
            hub, conn, point_id, body, key=token, app=app, origin=origin
        )
        found.append(done)
        return done.answer

    # An app's answer names the customer: kept (for Idempotency-Key) under their key.
    whose = None if app is None else (lambda answer: str(answer["customer"]))
    answer = await write(hub, request, caller, body, 201, use_case, customer_id=whose)
    if found and found[0].awaiting_confirmation:
        confirmations.send_soon(hub, found[0].customer_id)  # double opt-in: the link to confirm
    return answer
