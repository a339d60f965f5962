"""Customers and their identifiers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, select

from consentry.store.database import dbapi_cursor
from consentry.store.tables import customers, identifiers

# PostgreSQL takes at most 65,535 bound parameters a statement, SQLite 32,766.
CHUNK = 30_000


@dataclass(frozen=True)
class CustomerRow:
    id: str
    name: str | None
    postcode: str | None
    status: str
    restricted: bool
    created_at: int
    erased_at: int | None


def _row(row: Any) -> CustomerRow:
    return CustomerRow(
        row.id,
        row.name,
        row.postcode,
        row.status,
        bool(row.restricted),
        row.created_at,
        row.erased_at,
    )


def insert(conn: Connection, row: CustomerRow, name_key: str | None) -> None:
    conn.execute(
        customers.insert().values(
            id=row.id,
            name=row.name,
            name_key=name_key,
            postcode=row.postcode,
            status=row.status,
            restricted=row.restricted,
            created_at=row.created_at,
        )
    )


# Statements on the write path are built once: constructing them per call costs more than
# executing them.
_GET = select(customers).where(customers.c.id == bindparam("customer_id"))
# Serialises writers of one customer on PostgreSQL, so their records are written, ordered and
# applied one after the other (SQLite's write lock already does this).
_GET_FOR_UPDATE = _GET.with_for_update()


def get(conn: Connection, customer_id: str, *, for_update: bool = False) -> CustomerRow | None:
    row = conn.execute(
        _GET_FOR_UPDATE if for_update else _GET, {"customer_id": customer_id}
    ).first()
    return _row(row) if row else None


def identifiers_of(conn: Connection, customer_id: str) -> dict[str, str]:
    rows = conn.execute(
        select(identifiers.c.kind, identifiers.c.value).where(
            identifiers.c.customer_id == customer_id
        )
    )
    return {r.kind: r.value for r in rows}


def by_identifier(conn: Connection, kind: str, value: str) -> str | None:
    return conn.execute(
        select(identifiers.c.customer_id).where(
            identifiers.c.kind == kind, identifiers.c.value == value
        )
    ).scalar()


def by_name_and_postcode(conn: Connection, name_key: str, postcode: str) -> list[str]:
    rows = conn.execute(
        select(customers.c.id)
        .where(
            customers.c.name_key == name_key,
            customers.c.postcode == postcode,
            customers.c.status == "active",
        )
        .limit(2)
    )
    return [r.id for r in rows]


def states(conn: Connection, ids: Sequence[str]) -> dict[str, tuple[str, bool]]:
    """(status, restricted) of each known customer among ``ids``."""
    found: dict[str, tuple[str, bool]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = conn.execute(
            select(customers.c.id, customers.c.status, customers.c.restricted).where(
                customers.c.id.in_(ids[start : start + CHUNK])
            )
        )
        for r in rows:
            found[r.id] = (r.status, bool(r.restricted))
    return found


def insert_many(conn: Connection, rows: list[CustomerRow]) -> None:
    if rows:
        cursor, p = dbapi_cursor(conn)
        cursor.executemany(
            "INSERT INTO customers (id, name, postcode, status, restricted, created_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p}, {p})",
            [(r.id, r.name, r.postcode, r.status, r.restricted, r.created_at) for r in rows],
        )


def add_identifiers(conn: Connection, rows: list[tuple[str, str, str]]) -> None:
    """(kind, value, customer_id) rows."""
    if rows:
        cursor, p = dbapi_cursor(conn)
        cursor.executemany(
            f"INSERT INTO identifiers (kind, value, customer_id) VALUES ({p}, {p}, {p})", rows
        )


def holders(conn: Connection, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Which customer already holds each (kind, value) identifier."""
    found: dict[tuple[str, str], str] = {}
    by_kind: dict[str, list[str]] = {}
    for kind, value in set(pairs):
        by_kind.setdefault(kind, []).append(value)
    for kind, values in by_kind.items():
        for start in range(0, len(values), CHUNK):
            rows = conn.execute(
                select(identifiers.c.value, identifiers.c.customer_id).where(
                    identifiers.c.kind == kind,
                    identifiers.c.value.in_(values[start : start + CHUNK]),
                )
            )
            found.update({(kind, r.value): r.customer_id for r in rows})
    return found
