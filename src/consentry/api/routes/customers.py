from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from consentry.api.deps import CustomersRead, CustomersWrite, HubDep, ProfileRead, SubjectsManage
from consentry.api.i18n import choose, translator
from consentry.api.json_route import JsonRoute, json_answer
from consentry.api.pages import render
from consentry.api.wording import wording
from consentry.api.writes import write
from consentry.schemas.customers import (
    CustomerCreate,
    CustomerOut,
    Erasure,
    LookupIn,
    LookupOut,
    Restriction,
)
from consentry.schemas.export import ExportDocument
from consentry.services import customers, export, reads

router = APIRouter(route_class=JsonRoute, prefix="/v1/customers", tags=["customers"])


def _customer_of(answer: Any) -> str:
    return str(answer["id"])


@router.post("", status_code=201, response_model=CustomerOut)
async def create_customer(
    hub: HubDep, caller: CustomersWrite, body: CustomerCreate, request: Request
) -> Response:
    return await write(
        hub,
        request,
        caller,
        body,
        201,
        lambda conn: customers.create(hub, conn, body),
        customer_id=_customer_of,
    )


@router.post("/lookup", response_model=LookupOut, response_model_exclude_unset=True)
async def lookup_customer(hub: HubDep, caller: CustomersRead, body: LookupIn) -> Response:
    """Find a customer by e-mail, loyalty card, phone, or the card-less pair name + postcode
    (a POST: personal data never travels in URLs). Recorded in the customer's access log.
    With ``"include": ["consents"]`` (and consents:read) the answer also holds the customer's
    consents for the caller's purposes: "this e-mail's consents" in one call."""
    return json_answer(await reads.lookup(hub, caller, body))


@router.get("/{customer_id}", response_model=CustomerOut)
async def get_customer(hub: HubDep, caller: ProfileRead, customer_id: str) -> Response:
    """The profile fields the caller's scopes allow (identifiers need customers:read)."""
    return json_answer(await reads.profile(hub, caller, customer_id))


@router.delete("/{customer_id}", status_code=202, response_model=Erasure)
def erase_customer(hub: HubDep, _caller: SubjectsManage, customer_id: str) -> object:
    """Erase the customer: the data key is destroyed (crypto-shredding) and the personal data
    deleted; evidence records stay, pointing only to the pseudonymous id."""
    return customers.erase(hub, customer_id)


async def _set_restricted(
    hub: HubDep, caller: SubjectsManage, customer_id: str, request: Request, restricted: bool
) -> Response:
    return await write(
        hub,
        request,
        caller,
        None,
        200,
        lambda conn: customers.set_restricted(hub, conn, customer_id, restricted),
        customer_id=customer_id,
    )


@router.post("/{customer_id}/restrict", response_model=Restriction)
async def restrict_customer(
    hub: HubDep, caller: SubjectsManage, customer_id: str, request: Request
) -> Response:
    """Restrict processing (GDPR art. 18): every check answers ``restricted`` until lifted."""
    return await _set_restricted(hub, caller, customer_id, request, True)


@router.post("/{customer_id}/unrestrict", response_model=Restriction)
async def unrestrict_customer(
    hub: HubDep, caller: SubjectsManage, customer_id: str, request: Request
) -> Response:
    """Lift a restriction of processing."""
    return await _set_restricted(hub, caller, customer_id, request, False)


@router.get(
    "/{customer_id}/export",
    response_model=ExportDocument,
    responses={200: {"content": {"text/html": {}}}},
)
def export_customer(
    hub: HubDep, caller: SubjectsManage, customer_id: str, request: Request
) -> object:
    """Everything held about the customer as one JSON document (schema: docs/export.schema.json);
    with ``Accept: text/html``, the same as a readable page."""
    document = export.export(hub, caller, customer_id)
    if "text/html" in request.headers.get("accept", ""):
        lang = choose(None, None, request.headers.get("accept-language"))
        _ = translator(lang)
        page = render("export.html", doc=document, _=_, lang=lang, w=wording(hub, lang, _))
        return HTMLResponse(page)
    return document
