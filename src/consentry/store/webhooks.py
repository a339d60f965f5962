"""Webhook endpoints, the dispatcher's place in the outbox, and deliveries as stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, and_, exists, func, insert, select, text, true, update

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


def claim(
    conn: Connection, now: int, lease: int, limit: int, skip: set[str], chain: int
) -> list[Any]:
    """Due deliveries, leased to this worker: the first unfinished delivery of a customer to an
    endpoint (per-customer order: nothing later goes before it) and up to ``chain - 1`` due
    ones after it, to be sent one after the other. On PostgreSQL the first ones are locked
    with SKIP LOCKED, so several workers never take the same; the ones after it cannot be
    taken by anyone else while it is unfinished. On SQLite the write transaction already
    excludes every other writer."""
    earlier = d.alias("earlier")
    waiting = exists().where(
        earlier.c.endpoint_id == d.c.endpoint_id,
        earlier.c.subject == d.c.subject,
        earlier.c.position < d.c.position,
        earlier.c.status.in_(("pending", "delivering")),
    )
    query = (
        select(d.c.id, d.c.endpoint_id, d.c.subject, d.c.position)
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
    heads = list(conn.execute(query))
    if not heads:
        return []
    ids = [h.id for h in heads]
    if chain > 1:
        first = {(h.endpoint_id, h.subject): h.position for h in heads}
        n = (
            func.row_number()
            .over(partition_by=(d.c.endpoint_id, d.c.subject), order_by=d.c.position)
            .label("n")
        )
        # Every unfinished delivery of these customers, numbered in order: a chain goes on
        # only through pending, due ones, and stops at the first that is not (one still
        # leased to a worker that died, one waiting for its retry): nothing overtakes it.
        after = (
            select(
                d.c.id,
                d.c.endpoint_id,
                d.c.subject,
                d.c.position,
                d.c.status,
                d.c.next_attempt_at,
                n,
            )
            .where(
                d.c.status.in_(("pending", "delivering")),
                d.c.subject.in_(sorted({h.subject for h in heads})),
                d.c.endpoint_id.in_(sorted({h.endpoint_id for h in heads})),
            )
            .subquery()
        )
        stopped: set[tuple[str, str]] = set()
        for row in conn.execute(
            select(after).where(after.c.n <= chain + 1).order_by(after.c.position)
        ):
            pair = (row.endpoint_id, row.subject)
            head = first.get(pair)
            if head is None or row.position <= head or pair in stopped:
                continue
            if row.status != "pending" or row.next_attempt_at > now:
                stopped.add(pair)
                continue
            ids.append(row.id)
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


def release(conn: Connection, ids: Sequence[str]) -> None:
    """Give claimed deliveries back untried (after an earlier one of the chain failed)."""
    if ids:
        conn.execute(
            update(d).where(d.c.id.in_(list(ids))).values(status="pending", leased_until=None)
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
