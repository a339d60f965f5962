"""Apps that hold customer data, erasures, and each app's acknowledgement."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from consentry.store.tables import apps, data_holders, erasure_acks, erasures


def holders(conn: Connection) -> list[str]:
    """Apps, not revoked, that declared they hold customer data."""
    return list(
        conn.execute(
            select(data_holders.c.app_id)
            .join(apps, apps.c.id == data_holders.c.app_id)
            .where(apps.c.revoked_at.is_(None))
            .order_by(data_holders.c.app_id)
        ).scalars()
    )


def declare(conn: Connection, app_id: str, holds: bool, now: int) -> None:
    known = conn.execute(
        select(data_holders.c.app_id).where(data_holders.c.app_id == app_id)
    ).first()
    if holds and known is None:
        conn.execute(insert(data_holders).values(app_id=app_id, declared_at=now))
    if not holds and known is not None:
        conn.execute(delete(data_holders).where(data_holders.c.app_id == app_id))


def holds(conn: Connection, app_id: str) -> bool:
    return (
        conn.execute(select(data_holders.c.app_id).where(data_holders.c.app_id == app_id)).first()
        is not None
    )


def create(conn: Connection, erasure_id: str, subject: str, app_ids: list[str], now: int) -> None:
    conn.execute(insert(erasures).values(id=erasure_id, subject=subject, requested_at=now))
    if app_ids:
        conn.execute(
            insert(erasure_acks),
            [{"erasure_id": erasure_id, "app_id": a, "reminders": 0} for a in app_ids],
        )


def get(conn: Connection, erasure_id: str) -> Any:
    return conn.execute(select(erasures).where(erasures.c.id == erasure_id)).first()


def acks(conn: Connection, erasure_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(erasure_acks)
            .where(erasure_acks.c.erasure_id == erasure_id)
            .order_by(erasure_acks.c.app_id)
        )
    )


def acknowledge(conn: Connection, erasure_id: str, app_id: str, now: int) -> bool:
    return (
        conn.execute(
            update(erasure_acks)
            .where(
                erasure_acks.c.erasure_id == erasure_id,
                erasure_acks.c.app_id == app_id,
                erasure_acks.c.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now)
        ).rowcount
        == 1
    )


def pending_ids(conn: Connection, limit: int) -> list[str]:
    return list(
        conn.execute(
            select(erasure_acks.c.erasure_id)
            .where(erasure_acks.c.acknowledged_at.is_(None))
            .group_by(erasure_acks.c.erasure_id)
            .order_by(erasure_acks.c.erasure_id)
            .limit(limit)
        ).scalars()
    )


def due_reminders(conn: Connection, before: int) -> list[Any]:
    """Unacknowledged apps last reminded (or asked) before then."""
    return list(
        conn.execute(
            select(erasure_acks, erasures.c.subject, erasures.c.requested_at)
            .join(erasures, erasures.c.id == erasure_acks.c.erasure_id)
            .where(
                erasure_acks.c.acknowledged_at.is_(None),
                (erasure_acks.c.reminded_at < before)
                | (erasure_acks.c.reminded_at.is_(None) & (erasures.c.requested_at < before)),
            )
        )
    )


def reminded(conn: Connection, erasure_id: str, app_id: str, now: int) -> None:
    conn.execute(
        update(erasure_acks)
        .where(erasure_acks.c.erasure_id == erasure_id, erasure_acks.c.app_id == app_id)
        .values(reminded_at=now, reminders=erasure_acks.c.reminders + 1)
    )


def recent_ids(conn: Connection, limit: int) -> list[str]:
    return list(
        conn.execute(
            select(erasures.c.id).order_by(erasures.c.requested_at.desc()).limit(limit)
        ).scalars()
    )
