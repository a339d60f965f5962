"""The apps' everyday reads of one customer: each one statement (store/quick.py), on the event
loop, with the purposes from the process's cache.

The answers are the ones the slower paths gave (services/consents, customers, profiling), from
the same domain functions; only the way to the rows changed. Reads of personal data go to the
access log through its batched path (services/access), as before: a read is logged once, and
a crash loses at most the entries of the last flush interval.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from consentry.domain.access import Caller, Scope
from consentry.domain.errors import AmbiguousMatch, CustomerNotFound, InvalidInput, NotFound
from consentry.domain.purposes import Purpose
from consentry.schemas.customers import LookupIn
from consentry.services import customers
from consentry.services.consents import consent_list, opened, record_json
from consentry.services.hub import Hub
from consentry.services.profiling import answer_json, entry_json
from consentry.store.customers import CustomerRow
from consentry.store.pagination import check_limit, decode_cursor, encode_cursor
from consentry.store.quick import CustomerStates, customer_of, rest_of


async def purposes(hub: Hub, fingerprint: str) -> list[Purpose]:
    """Every purpose, from the cache while the catalogue's fingerprint (read with the
    customer, so as fresh as the states) is the one the cache was filled at: a purpose created
    or changed by any process is seen by the next read in every process."""
    cached = hub.purpose_catalogue
    if cached is not None and cached[0] == fingerprint:
        return cached[1]
    fresh, found = await hub.quick.purposes()
    hub.purpose_catalogue = (fresh, found)
    return found


async def consents(hub: Hub, caller: Caller, customer_id: str) -> dict[str, Any]:
    """GET /v1/customers/{id}/consents: the states of the caller's purposes, per channel."""
    found = await hub.quick.states("id", customer_id)
    if not found:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    return await _consents(hub, caller, found[0])


async def _consents(hub: Hub, caller: Caller, read: CustomerStates) -> dict[str, Any]:
    customer = customers.check_active(read.customer)
    catalogue = await purposes(hub, read.fingerprint)
    return consent_list(caller, catalogue, read.entries, hub.now_micros(), customer)


async def lookup(hub: Hub, caller: Caller, body: LookupIn) -> dict[str, Any]:
    """POST /v1/customers/lookup, with the consents too when asked for ("include")."""
    consents_too = "consents" in body.include
    if consents_too:
        caller.require(Scope.CONSENTS_READ)
    by, params = customers.lookup_key(hub, body)
    answer: dict[str, Any]
    if consents_too:
        found = await hub.quick.states(by, *params)
        ids = [read.customer.id for read in found]
    else:
        name = "id_by_identifier" if by == "identifier" else "ids_by_pair"
        ids = [row[0] for row in await hub.quick.fetch(name, params)]
    if not ids:
        raise NotFound("no customer matches")
    if len(ids) > 1:
        raise AmbiguousMatch(
            "more than one customer has this name and postcode: ask for an e-mail, phone or card"
        )
    answer = {"id": ids[0]}
    if consents_too:
        answer.update(await _consents(hub, caller, found[0]))
    customers.log_lookup(hub, caller, ids[0], body, body.include)
    return answer


async def profile(hub: Hub, caller: Caller, customer_id: str) -> dict[str, Any]:
    """GET /v1/customers/{id}: the profile fields the caller's scopes allow."""
    rows = await hub.quick.fetch("profile", (customer_id,))
    if not rows:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    row = customers.check_active(customer_of(rows[0]))
    if not caller.has(Scope.CUSTOMERS_READ):
        return {**_fields(row), "identifiers": None, "name": None, "postcode": None}
    vault = hub.vault
    key = vault.key(row.id)
    identifiers = {
        kind: vault.unseal(row.id, kind, bytes(sealed), key)
        for kind, sealed in (rest_of(r) for r in rows)
        if kind is not None
    }
    clear = customers.opened_fields(hub, row, key)
    hub.access.record(
        customer_id, caller, "profile", ["identifiers", customers.NAME, customers.POSTCODE]
    )
    return {**_fields(row), "identifiers": identifiers, **clear}


def _fields(row: CustomerRow) -> dict[str, Any]:
    return customers.profile_json(row, {}, None, None, full=False)


async def history(
    hub: Hub, caller: Caller, customer_id: str, after: str | None, limit: int
) -> dict[str, Any]:
    """GET …/consents/history: a page of the customer's evidence records, oldest first
    (erased customers' too: the evidence stays, without its openings)."""
    check_limit(limit)
    cursor = decode_cursor(after)
    if cursor is not None and not isinstance(cursor, int):
        raise InvalidInput("the cursor is not one this server gave out")
    rows = await hub.quick.fetch(
        "history", (-1 if cursor is None else cursor, customer_id, limit + 1)
    )
    if not rows:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    page = [rest_of(r) for r in rows if rest_of(r)[0] is not None]
    more = len(page) > limit
    page = page[:limit]
    records = []
    for _pk, seq, leaf_bytes, leaf_hash, sealed in page:
        leaf = orjson.loads(leaf_bytes)
        if caller.may_use(leaf["purpose"]):
            openings = opened(hub, customer_id, bytes(sealed) if sealed is not None else None)
            records.append(record_json(leaf, seq, bytes(leaf_hash), openings))
    return {"records": records, "next": encode_cursor(page[-1][0]) if more else None}


class _Answer(NamedTuple):
    """An answer's row as services/profiling.answer_json reads it."""

    question_id: str
    status: str
    sealed: bytes
    channel: str
    actor_type: str
    answered_at: int
    expires_at: int | None


async def answers(hub: Hub, caller: Caller, customer_id: str) -> dict[str, Any]:
    """GET …/answers: what the customer told us (the profiling purpose's apps only)."""
    caller.require_purpose(hub.settings.profiling_purpose)
    rows = await hub.quick.fetch("answers", (customer_id,))
    if not rows:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    row = customers.check_active(customer_of(rows[0]))
    given = [_Answer(*rest_of(r)) for r in rows if rest_of(r)[0] is not None]
    key = hub.vault.key(row.id) if given else None
    return {"answers": [answer_json(hub, customer_id, a, key) for a in given]}


_ENTRY = ("id", "points", "question_id", "reason", "at")


async def points(hub: Hub, customer_id: str, after: str | None, limit: int) -> dict[str, Any]:
    """GET …/points: the balance and a page of entries, newest first."""
    check_limit(limit)
    cursor = decode_cursor(after)
    if cursor is None:
        rows = await hub.quick.fetch("points_first", (customer_id, limit + 1))
    else:
        rows = await hub.quick.fetch("points_after", (str(cursor), customer_id, limit + 1))
    if not rows:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    customers.check_active(customer_of(rows[0]))
    balance = rest_of(rows[0])[0]
    page = [dict(zip(_ENTRY, rest_of(r)[1:], strict=True)) for r in rows if rest_of(r)[1]]
    more = len(page) > limit
    page = page[:limit]
    return {
        "balance": int(balance or 0),
        "entries": [entry_json(e) for e in page],
        "next": encode_cursor(page[-1]["id"]) if more else None,
    }
