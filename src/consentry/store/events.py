"""Events as stored: clear type and time, sealed details."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from consentry.store.database import dbapi_cursor
from consentry.store.tables import events

CHUNK = 30_000


def insert_many(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """(id, customer_id, type, occurred_at, sealed, source_key, received_at) rows."""
    if rows:
        cursor, p = dbapi_cursor(conn)
        cursor.executemany(
            "INSERT INTO events (id, customer_id, type, occurred_at, sealed, source_key, "
            f"received_at) VALUES ({', '.join([p] * 7)})",
            rows,
        )


def known_source_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        found.update(
            conn.execute(
                select(events.c.source_key).where(
                    events.c.source_key.in_(keys[start : start + CHUNK])
                )
            ).scalars()
        )
    return found


def of_customer(conn: Connection, customer_id: str, limit: int | None = None) -> list[Any]:
    query = (
        select(events)
        .where(events.c.customer_id == customer_id)
        .order_by(events.c.occurred_at.desc(), events.c.id)
    )
    return list(conn.execute(query.limit(limit) if limit else query))


def set_excluded(conn: Connection, customer_id: str, event_id: str, excluded: bool) -> bool:
    return (
        conn.execute(
            update(events)
            .where(events.c.id == event_id, events.c.customer_id == customer_id)
            .values(excluded=excluded)
        ).rowcount
        == 1
    )


def forget_before(conn: Connection, event_type: str, before: int, limit: int) -> int:
    old = (
        select(events.c.id)
        .where(events.c.type == event_type, events.c.occurred_at < before)
        .limit(limit)
    )
    return int(conn.execute(delete(events).where(events.c.id.in_(old))).rowcount)


def of_customer_since(conn: Connection, customer_id: str, since: int) -> list[Any]:
    return list(
        conn.execute(
            select(events)
            .where(events.c.customer_id == customer_id, events.c.occurred_at >= since)
            .order_by(events.c.occurred_at.desc(), events.c.id)
        )
    )


def purchases_of(conn: Connection, customer_ids: Sequence[str]) -> list[Any]:
    """The purchases of these customers that they did not exclude."""
    found: list[Any] = []
    for start in range(0, len(customer_ids), CHUNK):
        found += conn.execute(
            select(events.c.customer_id, events.c.occurred_at, events.c.sealed).where(
                events.c.customer_id.in_(customer_ids[start : start + CHUNK]),
                events.c.type == "purchase",
                events.c.excluded.is_(False),
            )
        )
    return found
