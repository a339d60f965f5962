"""The change feed: every change in the order it was sequenced, for apps that prefer to pull."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from consentry.api.deps import HubDep, needs
from consentry.api.json_route import JsonRoute, json_answer
from consentry.domain.access import Caller, Scope
from consentry.services import changes

router = APIRouter(route_class=JsonRoute, tags=["changes"])

# Any of these scopes reads the feed (api/direct checks the same).
FEED_READERS = (
    Scope.CONSENTS_READ,
    Scope.PREFERENCES_READ,
    Scope.DECISIONS_READ,
    Scope.SUBJECTS_MANAGE,
    Scope.WEBHOOKS_MANAGE,
)
FeedReader = Annotated[Caller, Depends(needs(*FEED_READERS))]


@router.get("/v1/changes")
async def read_changes(
    hub: HubDep,
    caller: FeedReader,
    after: str | None = None,
    limit: int = Query(1000),
    wait: float = Query(0.0, description="Long-poll: wait up to this many seconds (≤ 30)."),
) -> Response:
    """Changes after the cursor ``after`` (none: from the start of the feed), oldest first:
    consent changes, preference changes, restrictions, erasures, trigger notifications — only
    those about the purposes the app is bound to, and those about no purpose (erasure,
    restriction). ``next`` is the cursor to send next time; it survives restarts. With
    ``wait`` the answer waits until there is a change or the time is up."""
    return json_answer(await changes.wait_and_read(hub, caller, after, limit, wait))
