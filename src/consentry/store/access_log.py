"""Reads of customers' personal data by apps, as stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select

from consentry.store.tables import access_log


def insert_many(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(access_log.insert(), rows)


def of_customer(conn: Connection, customer_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(access_log)
            .where(access_log.c.customer_id == customer_id)
            .order_by(access_log.c.pk)
        )
    )


def forget_before(conn: Connection, before: int, limit: int) -> int:
    """Delete up to ``limit`` entries older than ``before``; the count deleted."""
    old = select(access_log.c.pk).where(access_log.c.at < before).limit(limit)
    return conn.execute(delete(access_log).where(access_log.c.pk.in_(old))).rowcount
