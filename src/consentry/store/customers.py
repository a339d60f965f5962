"""Customers and their identifiers, as stored: sealed fields and blind indexes only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from consentry.store.bulk import insert_rows, is_in
from consentry.store.tables import (
    access_log,
    answers,
    collection_submissions,
    confirmations,
    consent_state,
    customers,
    decisions,
    events,
    evidence_openings,
    idempotency_keys,
    identifiers,
    notifications,
    offer_dismissals,
    points_accounts,
    points_entries,
    preference_links,
    profiling,
    trigger_firings,
    web_sessions,
)

# PostgreSQL takes at most 65,535 bound parameters a statement, SQLite 32,766.
CHUNK = 30_000


@dataclass(frozen=True)
class CustomerRow:
    id: str
    name_sealed: bytes | None
    postcode_sealed: bytes | None
    status: str
    restricted: bool
    created_at: int
    erased_at: int | None
    pair_blind: str | None = None


# The columns every read of a customer row takes, in CustomerRow's order.
COLUMNS = "id, name_sealed, postcode_sealed, status, restricted, created_at, erased_at, pair_blind"


def row_of(values: Sequence[Any]) -> CustomerRow:
    cid, name, postcode, status, restricted, created, erased, pair = values
    return CustomerRow(
        cid,
        bytes(name) if name is not None else None,
        bytes(postcode) if postcode is not None else None,
        status,
        bool(restricted),
        created,
        erased,
        pair,
    )


_GET = select(
    customers.c.id,
    customers.c.name_sealed,
    customers.c.postcode_sealed,
    customers.c.status,
    customers.c.restricted,
    customers.c.created_at,
    customers.c.erased_at,
    customers.c.pair_blind,
).where(customers.c.id == bindparam("customer_id"))
# Serialises writers of one customer on PostgreSQL, so their records are written, ordered and
# applied one after the other (SQLite's write lock already does this).
_GET_FOR_UPDATE = _GET.with_for_update()


def get(conn: Connection, customer_id: str, *, for_update: bool = False) -> CustomerRow | None:
    row = conn.execute(
        _GET_FOR_UPDATE if for_update else _GET, {"customer_id": customer_id}
    ).first()
    return row_of(row) if row else None


def insert_many(conn: Connection, rows: Sequence[CustomerRow]) -> None:
    insert_rows(
        conn,
        customers,
        COLUMNS.split(", "),
        [
            (
                r.id,
                r.name_sealed,
                r.postcode_sealed,
                r.status,
                r.restricted,
                r.created_at,
                r.erased_at,
                r.pair_blind,
            )
            for r in rows
        ],
    )


def identifiers_of(conn: Connection, customer_id: str) -> list[tuple[str, bytes]]:
    """(kind, sealed value) of each identifier the customer holds."""
    rows = conn.execute(
        select(identifiers.c.kind, identifiers.c.value_sealed)
        .where(identifiers.c.customer_id == customer_id)
        .order_by(identifiers.c.kind)
    )
    return [(r.kind, bytes(r.value_sealed)) for r in rows]


def by_identifier(conn: Connection, kind: str, blind: str) -> str | None:
    return conn.execute(
        select(identifiers.c.customer_id).where(
            identifiers.c.kind == kind, identifiers.c.blind == blind
        )
    ).scalar()


def by_pair(conn: Connection, pair_blind: str) -> list[str]:
    rows = conn.execute(
        select(customers.c.id)
        .where(customers.c.pair_blind == pair_blind, customers.c.status == "active")
        .limit(2)
    )
    return [r.id for r in rows]


def states(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """(status, restricted) of each known customer among ``ids``."""
    found: dict[str, tuple[str, bool]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = conn.execute(
            select(customers.c.id, customers.c.status, customers.c.restricted).where(
                is_in(conn, customers.c.id, ids[start : start + CHUNK])
            )
        )
        for r in rows:
            found[r.id] = (r.status, bool(r.restricted))
    return found


def add_identifiers(conn: Connection, rows: list[tuple[str, str, str, bytes]]) -> None:
    """(kind, blind index, customer_id, sealed value) rows."""
    insert_rows(conn, identifiers, ("kind", "blind", "customer_id", "value_sealed"), rows)


def holders(conn: Connection, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Which customer already holds each (kind, blind index) identifier."""
    found: dict[tuple[str, str], str] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, blind in set(pairs):
        by_kind.setdefault(kind, []).append(blind)
    for kind, blinds in by_kind.items():
        for start in range(0, len(blinds), CHUNK):
            rows = conn.execute(
                select(identifiers.c.blind, identifiers.c.customer_id).where(
                    identifiers.c.kind == kind,
                    is_in(conn, identifiers.c.blind, blinds[start : start + CHUNK]),
                )
            )
            found.update({(kind, r.blind): r.customer_id for r in rows})
    return found


def set_restricted(conn: Connection, customer_id: str, restricted: bool) -> None:
    conn.execute(
        update(customers).where(customers.c.id == customer_id).values(restricted=restricted)
    )


def erase(conn: Connection, customer_id: str, now: int) -> None:
    """Delete every row of personal data; keep the customer's id as a pseudonym, marked erased,
    so checks answer "erased" and the evidence records still name someone."""
    for table in (
        identifiers,
        evidence_openings,
        idempotency_keys,
        access_log,
        consent_state,
        preference_links,
        web_sessions,
        events,
        answers,
        profiling,
        points_accounts,
        points_entries,
        decisions,
        offer_dismissals,
        notifications,
        trigger_firings,
        confirmations,
        collection_submissions,
    ):
        conn.execute(delete(table).where(table.c.customer_id == customer_id))
    conn.execute(
        update(customers)
        .where(customers.c.id == customer_id)
        .values(
            name_sealed=None,
            postcode_sealed=None,
            pair_blind=None,
            restricted=False,
            status="erased",
            erased_at=now,
        )
    )
