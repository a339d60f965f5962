"""Triggers as stored, when each last fired for a customer, and their notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from consentry.store.catalogue import bump
from consentry.store.tables import notifications, trigger_firings, triggers


def all_triggers(conn: Connection) -> list[Any]:
    return list(conn.execute(select(triggers).order_by(triggers.c.position, triggers.c.id)))


def replace_triggers(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    conn.execute(delete(triggers))
    if rows:
        conn.execute(insert(triggers), list(rows))
    bump(conn)


def last_fired(conn: Connection, customer_id: str) -> dict[str, int]:
    return {
        r.trigger_id: r.fired_at
        for r in conn.execute(
            select(trigger_firings).where(trigger_firings.c.customer_id == customer_id)
        )
    }


def fired(conn: Connection, customer_id: str, trigger_id: str, at: int, known: bool) -> None:
    if known:
        conn.execute(
            update(trigger_firings)
            .where(
                trigger_firings.c.customer_id == customer_id,
                trigger_firings.c.trigger_id == trigger_id,
            )
            .values(fired_at=at)
        )
    else:
        conn.execute(
            insert(trigger_firings).values(
                customer_id=customer_id, trigger_id=trigger_id, fired_at=at
            )
        )


def notification_times(conn: Connection, customer_id: str) -> dict[str, list[int]]:
    """When each trigger notified the customer (for the triggers' caps)."""
    times: dict[str, list[int]] = {}
    for r in conn.execute(
        select(notifications.c.trigger_id, notifications.c.created_at).where(
            notifications.c.customer_id == customer_id
        )
    ):
        times.setdefault(r.trigger_id, []).append(r.created_at)
    return times


def insert_notification(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(notifications).values(**row))


def pending(conn: Connection, notify: str, due_by: int, store: str | None, limit: int) -> list[Any]:
    query = (
        select(notifications)
        .where(
            notifications.c.notify == notify,
            notifications.c.status == "pending",
            notifications.c.due_at <= due_by,
        )
        .order_by(notifications.c.due_at, notifications.c.id)
        .limit(limit)
    )
    if store is not None:
        query = query.where(notifications.c.store == store)
    return list(conn.execute(query))


def of_customer(conn: Connection, customer_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(notifications)
            .where(notifications.c.customer_id == customer_id)
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        )
    )


def mark_done(conn: Connection, notification_id: str) -> bool:
    return (
        conn.execute(
            update(notifications)
            .where(notifications.c.id == notification_id, notifications.c.status == "pending")
            .values(status="done")
        ).rowcount
        == 1
    )


def get(conn: Connection, notification_id: str) -> Any:
    return conn.execute(select(notifications).where(notifications.c.id == notification_id)).first()


def forget_before(conn: Connection, before: int, limit: int) -> int:
    old = select(notifications.c.id).where(notifications.c.created_at < before).limit(limit)
    return int(conn.execute(delete(notifications).where(notifications.c.id.in_(old))).rowcount)
