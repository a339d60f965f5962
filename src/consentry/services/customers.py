"""Customers: create with normalised identifiers, look up, read a profile."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from consentry.domain.access import Caller, Scope
from consentry.domain.clock import rfc3339_micros
from consentry.domain.consent import CustomerStatus
from consentry.domain.errors import (
    AmbiguousMatch,
    CustomerErased,
    CustomerNotFound,
    IdentifierTaken,
    InvalidInput,
    NotFound,
)
from consentry.domain.identifiers import (
    IdentifierKind,
    name_key,
    normalise_identifier,
    normalise_postcode,
)
from consentry.domain.ids import new_id
from consentry.schemas import CustomerCreate, CustomerLookup
from consentry.services.hub import Hub
from consentry.store import customers as store
from consentry.store.customers import CustomerRow

_KINDS = tuple((kind, kind.value) for kind in IdentifierKind)


def normalised_identifiers(hub: Hub, raw: dict[str, str | None]) -> list[tuple[str, str]]:
    region = hub.settings.default_region
    return [
        (name, normalise_identifier(kind, value, region))
        for kind, name in _KINDS
        if (value := raw.get(name)) is not None
    ]


def create(hub: Hub, conn: Connection, body: CustomerCreate) -> dict[str, Any]:
    pairs = normalised_identifiers(hub, body.identifiers.model_dump())
    postcode = normalise_postcode(body.postcode) if body.postcode is not None else None
    name = " ".join(body.name.split()) if body.name is not None else None
    taken = store.holders(conn, pairs)
    if taken:
        (kind, _value), holder = next(iter(taken.items()))
        raise IdentifierTaken(
            f"{holder}: this {kind} is already held by customer {holder}",
            [{"loc": ["identifiers", kind], "msg": f"held by {holder}"}],
        )
    row = CustomerRow(
        id=new_id("cus"),
        name=name,
        postcode=postcode,
        status=CustomerStatus.ACTIVE.value,
        restricted=False,
        created_at=hub.now_micros(),
        erased_at=None,
    )
    store.insert(conn, row, name_key(name) if name else None)
    store.add_identifiers(conn, [(kind, value, row.id) for kind, value in pairs])
    return profile_json(row, dict(pairs), full=True)


def profile_json(row: CustomerRow, identifiers: dict[str, str], *, full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "created_at": rfc3339_micros(row.created_at),
        "status": row.status,
        "restricted": row.restricted,
    }
    if full:
        out.update(identifiers=identifiers, name=row.name, postcode=row.postcode)
    return out


def lookup(hub: Hub, body: CustomerLookup) -> dict[str, str]:
    given = body.model_dump(exclude_none=True)
    by_identifier = [k for k in given if k in {kind.value for kind in IdentifierKind}]
    by_pair = {"name", "postcode"} & given.keys()
    if len(by_identifier) + (1 if by_pair else 0) != 1 or (by_pair and len(by_pair) != 2):
        raise InvalidInput(
            "look up by exactly one of email, loyalty_card, phone, or the pair name + postcode",
            [{"loc": ["body"], "msg": "one identifier, or name with postcode"}],
        )
    with hub.db.read() as conn:
        if by_identifier:
            kind, value = normalised_identifiers(hub, given)[0]
            found = store.by_identifier(conn, kind, value)
            matches = [found] if found else []
        else:
            matches = store.by_name_and_postcode(
                conn, name_key(given["name"]), normalise_postcode(given["postcode"])
            )
    if not matches:
        raise NotFound("no customer matches")
    if len(matches) > 1:
        raise AmbiguousMatch(
            "more than one customer has this name and postcode: ask for an e-mail, phone or card"
        )
    return {"id": matches[0]}


def get_profile(hub: Hub, caller: Caller, customer_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        row = require_active(conn, customer_id)
        full = caller.has(Scope.CUSTOMERS_READ)
        identifiers = store.identifiers_of(conn, customer_id) if full else {}
    return profile_json(row, identifiers, full=full)


def require(conn: Connection, customer_id: str, *, for_update: bool = False) -> CustomerRow:
    row = store.get(conn, customer_id, for_update=for_update)
    if row is None:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    return row


def require_active(conn: Connection, customer_id: str, *, for_update: bool = False) -> CustomerRow:
    return check_active(require(conn, customer_id, for_update=for_update))


def check_active(row: CustomerRow) -> CustomerRow:
    if row.status == CustomerStatus.ERASED.value:
        raise CustomerErased(f"customer {row.id!r} was erased")
    return row
