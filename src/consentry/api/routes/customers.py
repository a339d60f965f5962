from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from consentry.api.deps import CustomersRead, CustomersWrite, HubDep, ProfileRead, SubjectsManage
from consentry.api.writes import write
from consentry.domain.errors import NotImplementedYet
from consentry.schemas import CustomerCreate, CustomerId, CustomerLookup, CustomerOut
from consentry.services import customers

router = APIRouter(prefix="/v1/customers", tags=["customers"])


@router.post("", status_code=201, response_model=CustomerOut)
async def create_customer(
    hub: HubDep, caller: CustomersWrite, body: CustomerCreate, request: Request
) -> Response:
    return await write(
        hub, request, caller, body, 201, lambda conn: customers.create(hub, conn, body)
    )


@router.post("/lookup", response_model=CustomerId)
def lookup_customer(hub: HubDep, _caller: CustomersRead, body: CustomerLookup) -> object:
    """Find a customer by e-mail, loyalty card, phone, or the card-less pair name + postcode
    (a POST: personal data never travels in URLs)."""
    return customers.lookup(hub, body)


@router.get("/{customer_id}", response_model=CustomerOut)
def get_customer(hub: HubDep, caller: ProfileRead, customer_id: str) -> object:
    """The profile fields the caller's scopes allow (identifiers need customers:read)."""
    return customers.get_profile(hub, caller, customer_id)


@router.delete("/{customer_id}", status_code=202)
def erase_customer(_caller: SubjectsManage, customer_id: str) -> object:
    raise NotImplementedYet("erasure comes with the personal-data vault")


@router.get("/{customer_id}/export")
def export_customer(_caller: SubjectsManage, customer_id: str) -> object:
    raise NotImplementedYet("the data export comes with the personal-data vault")
