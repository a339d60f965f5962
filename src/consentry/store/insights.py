"""Insight counts as stored: the cells, their members, and how far the outbox is counted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from consentry.store import mirror_positions as positions
from consentry.store.bulk import unnested_insert
from consentry.store.tables import FLOW_CELL, consent_state, customers
from consentry.store.tables import insight_consent_flows as flows
from consentry.store.tables import insight_consent_levels as levels
from consentry.store.tables import insight_flow_members as members

PLACE = "insights"
CELL = FLOW_CELL  # the columns that name a cell


def place(conn: Connection) -> int:
    return positions.place(conn, PLACE)


def set_place(conn: Connection, position: int) -> None:
    positions.set_place(conn, PLACE, position)


def dialect_insert(conn: Connection, table: Any) -> Any:
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def add_members(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert the member rows not there yet; the cells of those that were new (a customer
    already counted in a cell is not counted again)."""
    if not rows:
        return []
    if conn.dialect.name == "postgresql":
        names = (*CELL, "member")
        found = unnested_insert(
            conn,
            members,
            names,
            [[row[name] for name in names] for row in rows],
            f"ON CONFLICT DO NOTHING RETURNING {', '.join(CELL)}",
        )
        return [dict(zip(CELL, row, strict=True)) for row in found]
    # One cached statement run over all the rows (SQLAlchemy batches them as multi-row
    # INSERTs itself): building a statement of literal rows each time cost ten times the insert.
    statement = (
        dialect_insert(conn, members)
        .on_conflict_do_nothing()
        .returning(*(members.c[name] for name in CELL))
    )
    return [dict(row._mapping) for row in conn.execute(statement, list(rows))]


def add_to_cells(conn: Connection, counts: dict[tuple[Any, ...], int]) -> None:
    if not counts:
        return
    if conn.dialect.name == "postgresql":
        unnested_insert(
            conn,
            flows,
            (*CELL, "customers"),
            [(*cell, n) for cell, n in sorted(counts.items())],
            f"ON CONFLICT ({', '.join(CELL)}) "
            f"DO UPDATE SET customers = {flows.name}.customers + EXCLUDED.customers",
        )
        return
    rows = [
        {**dict(zip(CELL, cell, strict=True)), "customers": n} for cell, n in sorted(counts.items())
    ]
    statement = dialect_insert(conn, flows)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=list(CELL),
            set_={"customers": flows.c.customers + statement.excluded.customers},
        ),
        rows,
    )


def forget_member(conn: Connection, member: str) -> None:
    """An erased customer's membership rows (the counts stay: they are of no one)."""
    conn.execute(delete(members).where(members.c.member == member))


def cells(
    conn: Connection,
    period: str,
    first: date,
    last: date,
    purpose: str | None,
    channel: str | None = None,
) -> list[Any]:
    query = (
        select(flows)
        .where(flows.c.period == period, flows.c.day >= first, flows.c.day <= last)
        .order_by(*(flows.c[name] for name in CELL))
    )
    if purpose is not None:
        query = query.where(flows.c.purpose == purpose)
    if channel is not None:
        query = query.where(flows.c.channel == channel)
    return list(conn.execute(query))


def snapshot(conn: Connection, day: date) -> int:
    """Today's levels from the consent state, replacing an earlier snapshot of the same day;
    how many purpose-channel rows."""
    active = conn.execute(
        select(func.count()).select_from(customers).where(customers.c.status == "active")
    ).scalar_one()
    granted = conn.execute(
        select(consent_state.c.purpose, consent_state.c.channel, func.count())
        .where(consent_state.c.action == "grant")
        .group_by(consent_state.c.purpose, consent_state.c.channel)
    ).all()
    conn.execute(delete(levels).where(levels.c.day == day))
    rows = [
        {"day": day, "purpose": p, "channel": c, "granted": n, "customers": active}
        for p, c, n in granted
    ]
    if rows:
        conn.execute(levels.insert(), rows)
    return len(rows)


def levels_between(conn: Connection, first: date, last: date, purpose: str | None) -> list[Any]:
    query = (
        select(levels)
        .where(levels.c.day >= first, levels.c.day <= last)
        .order_by(levels.c.day, levels.c.purpose, levels.c.channel)
    )
    if purpose is not None:
        query = query.where(levels.c.purpose == purpose)
    return list(conn.execute(query))
