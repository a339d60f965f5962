"""Typed dependencies: the hub, and the caller with the scope a route needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPBearer

from consentry.domain.access import Caller, Scope
from consentry.services import apps
from consentry.services.hub import Hub


def hub_of(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


async def get_hub(request: Request) -> Hub:
    # async: FastAPI would run a plain function in its thread pool, a hop per request.
    return hub_of(request)


HubDep = Annotated[Hub, Depends(get_hub)]


# Declared for the OpenAPI document (the "Authorize" button); keys are checked by the services.
bearer_scheme = HTTPBearer(auto_error=False, description="An app key: Bearer csk_…")


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


async def authenticated(request: Request, _: object = Security(bearer_scheme)) -> Caller:
    return await apps.authenticate(
        hub_of(request), bearer(request), request.app.state.check_batch.app
    )


def needs(*scopes: Scope) -> Callable[..., Awaitable[Caller]]:
    """A caller holding at least one of ``scopes`` (admin holds all)."""

    async def dependency(request: Request, _: object = Security(bearer_scheme)) -> Caller:
        # A short indexed read on a reserved connection (on PostgreSQL batched with others'):
        # cheaper on the loop than a thread hop.
        caller = await apps.authenticate(
            hub_of(request), bearer(request), request.app.state.check_batch.app
        )
        if not any(caller.has(s) for s in scopes):
            caller.require(scopes[0])
        return caller

    return dependency


Admin = Annotated[Caller, Depends(needs(Scope.ADMIN))]
CustomersRead = Annotated[Caller, Depends(needs(Scope.CUSTOMERS_READ))]
CustomersWrite = Annotated[Caller, Depends(needs(Scope.CUSTOMERS_WRITE))]
ProfileRead = Annotated[
    Caller,
    Depends(
        needs(
            Scope.CUSTOMERS_READ, Scope.CUSTOMERS_WRITE, Scope.CONSENTS_READ, Scope.CONSENTS_WRITE
        )
    ),
]
ConsentsRead = Annotated[Caller, Depends(needs(Scope.CONSENTS_READ))]
ConsentsWrite = Annotated[Caller, Depends(needs(Scope.CONSENTS_WRITE))]
SubjectsManage = Annotated[Caller, Depends(needs(Scope.SUBJECTS_MANAGE))]
EventsWrite = Annotated[Caller, Depends(needs(Scope.EVENTS_WRITE))]
PreferencesWrite = Annotated[Caller, Depends(needs(Scope.PREFERENCES_WRITE))]
PreferencesRead = Annotated[Caller, Depends(needs(Scope.PREFERENCES_READ, Scope.PREFERENCES_WRITE))]
DecisionsRead = Annotated[Caller, Depends(needs(Scope.DECISIONS_READ))]
WebhooksManage = Annotated[Caller, Depends(needs(Scope.WEBHOOKS_MANAGE))]
EvidenceRead = Annotated[Caller, Depends(needs(Scope.EVIDENCE_READ))]
MetricsRead = Annotated[Caller, Depends(needs(Scope.METRICS_READ))]
AnyApp = Annotated[Caller, Depends(authenticated)]
