"""Webhook endpoints, the dispatcher's place in the outbox, and deliveries as stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, exists, insert, select, text, true, update

from consentry.store.tables import outbox, webhook_deliveries, webhook_dispatch, webhook_endpoints

d = webhook_deliveries


# -- endpoints


def insert_endpoint(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(webhook_endpoints).values(**row))


def get_endpoint(conn: Connection, endpoint_id: str) -> Any:
    return conn.execute(
        select(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id)
    ).first()


def all_endpoints(conn: Connection) -> list[Any]:
    return list(conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.id)))


def update_endpoint(conn: Connection, endpoint_id: str, values: dict[str, Any]) -> None:
    conn.execute(
        update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(**values)
    )


def delete_endpoint(conn: Connection, endpoint_id: str) -> None:
    conn.execute(d.delete().where(d.c.endpoint_id == endpoint_id))
    conn.execute(webhook_endpoints.delete().where(webhook_endpoints.c.id == endpoint_id))


# -- the dispatcher


def dispatched_to(conn: Connection) -> int:
    found = conn.execute(select(webhook_dispatch.c.position)).scalar()
    return int(found) if found is not None else 0


def set_dispatched_to(conn: Connection, position: int) -> None:
    if not conn.execute(update(webhook_dispatch).values(position=position)).rowcount:
        conn.execute(insert(webhook_dispatch).values(id=1, position=position))


def changes_after(conn: Connection, position: int, limit: int) -> list[Any]:
    return list(
        conn.execute(
            select(outbox.c.position, outbox.c.type, outbox.c.subject, outbox.c.purpose)
            .where(outbox.c.position > position)
            .order_by(outbox.c.position)
            .limit(limit)
        )
    )


def insert_deliveries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(d), list(rows))


# -- deliveries


def claim(conn: Connection, now: int, lease: int, limit: int, skip: set[str]) -> list[Any]:
    """Due deliveries no earlier delivery of the same customer to the same endpoint is still
    waiting for (per-customer order), leased to this worker. On PostgreSQL the rows are
    locked with SKIP LOCKED, so several workers never take the same one; on SQLite the write
    transaction already excludes every other writer."""
    earlier = d.alias("earlier")
    waiting = exists().where(
        earlier.c.endpoint_id == d.c.endpoint_id,
        earlier.c.subject == d.c.subject,
        earlier.c.position < d.c.position,
        earlier.c.status.in_(("pending", "delivering")),
    )
    query = (
        select(d.c.id)
        .where(
            and_(
                d.c.next_attempt_at <= now,
                (d.c.status == "pending")
                | ((d.c.status == "delivering") & (d.c.leased_until < now)),
                ~waiting,
                d.c.endpoint_id.not_in(sorted(skip)) if skip else true(),
            )
        )
        .order_by(d.c.next_attempt_at, d.c.position)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=d)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    conn.execute(
        update(d).where(d.c.id.in_(ids)).values(status="delivering", leased_until=now + lease)
    )
    return list(
        conn.execute(
            select(
                d,
                outbox.c.type,
                outbox.c.purpose,
                outbox.c.body,
                outbox.c.created_at.label("changed_at"),
            )
            .join(outbox, outbox.c.position == d.c.position)
            .where(d.c.id.in_(ids))
            .order_by(d.c.position)
        )
    )


def finish(conn: Connection, delivery_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(d).where(d.c.id == delivery_id).values(**values))


def get_delivery(conn: Connection, delivery_id: str) -> Any:
    return conn.execute(select(d).where(d.c.id == delivery_id)).first()


def deliveries_of(conn: Connection, endpoint_id: str, status: str | None, limit: int) -> list[Any]:
    query = (
        select(d).where(d.c.endpoint_id == endpoint_id).order_by(d.c.position.desc()).limit(limit)
    )
    if status is not None:
        query = query.where(d.c.status == status)
    return list(conn.execute(query))


def deliveries_of_subject(conn: Connection, subject: str) -> list[Any]:
    return list(conn.execute(select(d).where(d.c.subject == subject).order_by(d.c.position)))


def counts(conn: Connection, endpoint_id: str) -> dict[str, int]:
    rows = conn.execute(
        text(
            "SELECT status, count(*) FROM webhook_deliveries WHERE endpoint_id = :e GROUP BY status"
        ),
        {"e": endpoint_id},
    )
    return {status: int(n) for status, n in rows}


def forget_before(conn: Connection, before: int, limit: int) -> int:
    """Finished deliveries (delivered or dead) created before then."""
    old = (
        select(d.c.id)
        .where(d.c.created_at < before, d.c.status.in_(("delivered", "dead")))
        .limit(limit)
    )
    return int(conn.execute(d.delete().where(d.c.id.in_(old))).rowcount)
