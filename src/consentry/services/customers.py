"""Customers: create with normalised identifiers, look up, read a profile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection

from consentry.domain.access import Caller, Scope
from consentry.domain.changes import ChangeType
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
    normalise_name,
    normalise_postcode,
)
from consentry.domain.ids import new_id
from consentry.schemas.customers import CustomerCreate, CustomerLookup
from consentry.services import changes, erasures, insight_counts, web_access
from consentry.services.hub import Hub
from consentry.store import customers as store
from consentry.store.customers import CustomerRow

_KINDS = tuple((kind, kind.value) for kind in IdentifierKind)
NAME, POSTCODE = "name", "postcode"


def normalised_identifiers(hub: Hub, raw: dict[str, str | None]) -> list[tuple[str, str]]:
    region = hub.settings.default_region
    return [
        (name, normalise_identifier(kind, value, region))
        for kind, name in _KINDS
        if (value := raw.get(name)) is not None
    ]


def pair_blind(hub: Hub, name: str, postcode: str) -> str:
    """The blind index of the card-less look-up pair (name as compared, postcode normalised)."""
    return hub.vault.blind("name+postcode", name_key(name) + "\x00" + normalise_postcode(postcode))


def identifier_rows(
    hub: Hub, key: AESGCM, customer_id: str, pairs: list[tuple[str, str]]
) -> list[tuple[str, str, str, bytes]]:
    """(kind, blind index, customer, sealed value) rows for the identifiers table."""
    vault = hub.vault
    return [
        (
            kind,
            vault.blind(kind, value),
            customer_id,
            vault.seal_with(key, customer_id, kind, value),
        )
        for kind, value in pairs
    ]


def create(hub: Hub, conn: Connection, body: CustomerCreate) -> dict[str, Any]:
    pairs = normalised_identifiers(hub, body.identifiers.model_dump())
    postcode = normalise_postcode(body.postcode) if body.postcode is not None else None
    name = normalise_name(body.name) if body.name is not None else None
    blinds = [(kind, hub.vault.blind(kind, value)) for kind, value in pairs]
    taken = store.holders(conn, blinds)
    if taken:
        (kind, _blind), holder = next(iter(taken.items()))
        raise IdentifierTaken(
            f"{holder}: this {kind} is already held by customer {holder}",
            [{"loc": ["identifiers", kind], "msg": f"held by {holder}"}],
        )
    customer_id = new_id("cus")
    now = hub.now_micros()
    # The key is stored (committed to the key store) before the sealed data it opens.
    hub.vault.new_keys([customer_id], now)
    key = hub.vault.key(customer_id)
    row = CustomerRow(
        id=customer_id,
        name_sealed=hub.vault.seal_with(key, customer_id, NAME, name) if name else None,
        postcode_sealed=(
            hub.vault.seal_with(key, customer_id, POSTCODE, postcode) if postcode else None
        ),
        status=CustomerStatus.ACTIVE.value,
        restricted=False,
        created_at=now,
        erased_at=None,
        pair_blind=pair_blind(hub, name, postcode) if name and postcode else None,
    )
    store.insert_many(conn, [row])
    store.add_identifiers(conn, identifier_rows(hub, key, customer_id, pairs))
    return profile_json(row, dict(pairs), name, postcode, full=True)


def profile_json(
    row: CustomerRow,
    identifiers: dict[str, str],
    name: str | None,
    postcode: str | None,
    *,
    full: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "created_at": rfc3339_micros(row.created_at),
        "status": row.status,
        "restricted": row.restricted,
    }
    if full:
        out.update(identifiers=identifiers, name=name, postcode=postcode)
    return out


def opened_profile(hub: Hub, conn: Connection, row: CustomerRow) -> dict[str, Any]:
    """The customer's personal fields in clear: identifiers, name, postcode."""
    key = hub.vault.key(row.id)
    vault = hub.vault
    return {
        "identifiers": {
            kind: vault.unseal(row.id, kind, sealed, key)
            for kind, sealed in store.identifiers_of(conn, row.id)
        },
        **opened_fields(hub, row, key),
    }


def opened_fields(hub: Hub, row: CustomerRow, key: AESGCM) -> dict[str, str | None]:
    """The customer's name and postcode in clear."""
    vault = hub.vault
    return {
        NAME: vault.unseal(row.id, NAME, row.name_sealed, key) if row.name_sealed else None,
        POSTCODE: (
            vault.unseal(row.id, POSTCODE, row.postcode_sealed, key)
            if row.postcode_sealed
            else None
        ),
    }


def lookup(
    hub: Hub, caller: Caller, body: CustomerLookup, also: Sequence[str] = ()
) -> dict[str, str]:
    """An app's look-up: recorded in the customer's access log, with what was read with it
    (``also``: "consents")."""
    found = find(hub, body)
    if found is None:
        raise NotFound("no customer matches")
    log_lookup(hub, caller, found, body, also)
    return {"id": found}


def log_lookup(
    hub: Hub, caller: Caller, customer_id: str, body: CustomerLookup, also: Sequence[str] = ()
) -> None:
    """The access-log entry of a look-up: what identified the customer (not how the answer
    was asked for: LookupIn's "include"), and what was read with it (``also``)."""
    named = body.model_dump(exclude_none=True, include=set(CustomerLookup.model_fields))
    hub.access.record(customer_id, caller, "lookup", sorted(named) + list(also))


def lookup_key(hub: Hub, body: CustomerLookup) -> tuple[str, tuple[str, ...]]:
    """How to find the customer a look-up names: ("identifier", (kind, blind index)) or
    ("pair", (blind index of name + postcode,)). InvalidInput unless it names exactly one
    identifier, or the pair."""
    given = body.model_dump(exclude_none=True, include=set(CustomerLookup.model_fields))
    by_identifier = [k for k in given if k in {kind.value for kind in IdentifierKind}]
    by_pair = {"name", "postcode"} & given.keys()
    if len(by_identifier) + (1 if by_pair else 0) != 1 or (by_pair and len(by_pair) != 2):
        raise InvalidInput(
            "look up by exactly one of email, loyalty_card, phone, or the pair name + postcode",
            [{"loc": ["body"], "msg": "one identifier, or name with postcode"}],
        )
    if by_identifier:
        kind, value = normalised_identifiers(hub, given)[0]
        return "identifier", (kind, hub.vault.blind(kind, value))
    return "pair", (pair_blind(hub, given["name"], given["postcode"]),)


def find(hub: Hub, body: CustomerLookup) -> str | None:
    """The one customer the look-up names, None if none; AmbiguousMatch if several."""
    by, key = lookup_key(hub, body)
    with hub.db.read() as conn:
        if by == "identifier":
            found = store.by_identifier(conn, *key)
            matches = [found] if found else []
        else:
            matches = store.by_pair(conn, *key)
    if not matches:
        return None
    if len(matches) > 1:
        raise AmbiguousMatch(
            "more than one customer has this name and postcode: ask for an e-mail, phone or card"
        )
    return matches[0]


def get_profile(hub: Hub, caller: Caller, customer_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        row = require_active(conn, customer_id)
        full = caller.has(Scope.CUSTOMERS_READ)
        clear = opened_profile(hub, conn, row) if full else {}
    if full:
        hub.access.record(customer_id, caller, "profile", ["identifiers", NAME, POSTCODE])
    return profile_json(
        row, clear.get("identifiers", {}), clear.get(NAME), clear.get(POSTCODE), full=full
    )


def set_restricted(
    hub: Hub, conn: Connection, customer_id: str, restricted: bool
) -> dict[str, Any]:
    """GDPR art. 18: while restricted, every check answers "restricted"."""
    row = require_active(conn, customer_id, for_update=True)
    store.set_restricted(conn, customer_id, restricted)
    changes.announce(
        hub,
        conn,
        ChangeType.CUSTOMER_RESTRICTED if restricted else ChangeType.CUSTOMER_UNRESTRICTED,
        customer_id,
        None,
        {"restricted": restricted},
    )
    return {"id": row.id, "status": row.status, "restricted": restricted}


def erase(hub: Hub, customer_id: str, *, journal: bool = True) -> dict[str, Any]:
    """Journal, crypto-shred, then delete: the erasure goes into the journal first (so that no
    restored backup brings the customer back), then the data key (committed), so that if the
    rest fails midway nothing left can be read, and running it again completes it. ``journal``
    False: a replay of an erasure the journal already holds."""
    with hub.db.read() as conn:
        row = require(conn, customer_id)
    if row.status == CustomerStatus.ERASED.value:
        raise CustomerErased(f"customer {customer_id!r} was erased")
    if journal:
        hub.erasure_journal.record(customer_id, hub.now_micros())
    with hub.db.write() as conn:
        # While the key still reads them: the answers leave the answer distribution.
        insight_counts.release_answers(hub, conn, customer_id)
    hub.vault.shred([customer_id])
    now = hub.now_micros()
    with hub.db.write() as conn:
        require(conn, customer_id, for_update=True)
        store.erase(conn, customer_id, now)
        insight_counts.forget_member(hub, conn, customer_id)
        # Every app holding data about the customer must delete it too, and confirm.
        erasure = erasures.start(hub, conn, customer_id, now)
    hub.access.forget(customer_id)
    web_access.forget_mail(hub, customer_id)
    return {
        "id": customer_id,
        "status": CustomerStatus.ERASED.value,
        "erased_at": rfc3339_micros(now),
        "erasure": erasure,
    }


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
