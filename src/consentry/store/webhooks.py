"""Webhook endpoints, the dispatcher's place in the outbox, and deliveries as stored."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    bindparam,
    case,
    func,
    insert,
    literal,
    null,
    select,
    text,
    update,
)

from consentry.domain.changes import ChangeType
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


def any_endpoint(conn: Connection) -> bool:
    return conn.execute(select(webhook_endpoints.c.id).limit(1)).first() is not None


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
    """The changes to fan out; ``addressed`` is the body of those that name their audience
    (erasure reminders), null for the rest: bodies are not read for nothing."""
    addressed = case(
        (outbox.c.type == ChangeType.CUSTOMER_ERASURE_PENDING.value, outbox.c.body),
        else_=null(),
    ).label("addressed")
    return list(
        conn.execute(
            select(outbox.c.position, outbox.c.type, outbox.c.subject, outbox.c.purpose, addressed)
            .where(outbox.c.position > position)
            .order_by(outbox.c.position)
            .limit(limit)
        )
    )


def insert_deliveries(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(d), list(rows))
        _refresh_statistics(conn, len(rows))


def _refresh_statistics(conn: Connection, added: int) -> None:
    """PostgreSQL plans from statistics that autovacuum refreshes about a minute later: after
    a burst that doubled the table (a new install's first backlog, a bulk import's fan-out) it
    still thinks it nearly empty, and plans claims as scans of the whole table (updates of
    320 claimed rows took 22 ms instead of 2). So the burst's own transaction refreshes them:
    ANALYZE samples, it costs a few milliseconds."""
    if conn.dialect.name != "postgresql" or added < 1_000:
        return
    known = conn.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = 'webhook_deliveries'::regclass")
    ).scalar()
    if known is None or known < 2 * added:
        conn.execute(text("ANALYZE webhook_deliveries"))


# -- deliveries


def claim(conn: Connection, now: int, lease: int, rooms: dict[str, int], chain: int) -> list[Any]:
    """Due deliveries, leased to this worker: for each endpoint up to ``rooms[endpoint]``
    customers' first unfinished deliveries (per-customer order: nothing later goes before it),
    each with up to ``chain - 1`` due ones after it, to be sent one after the other. On
    PostgreSQL the first ones are locked with SKIP LOCKED, so several workers never take the
    same; the ones after it cannot be taken by anyone else while it is unfinished. On SQLite
    the write transaction already excludes every other writer.

    One query per endpoint with room, limited to that room: claiming more than the endpoint
    can take at once only to give it back cost a busy endpoint most of its time."""
    heads: list[Any] = []
    for endpoint_id, room in sorted(rooms.items()):
        if room > 0:
            heads += _heads(conn, endpoint_id, now, room)
    if not heads:
        return []
    ids = [h.id for h in heads]
    if chain > 1:
        ids += _followers(conn, heads, now, chain)
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


def _heads(conn: Connection, endpoint_id: str, now: int, limit: int) -> list[Any]:
    """First unfinished deliveries of customers, due: ones whose worker's lease ran out, then
    pending ones in due order. Each is a walk of the (endpoint, status, due, position) index
    that stops at ``limit``; a delivery behind an unfinished one of its customer is skipped
    (failures push the ones behind them to their retry time, so few are)."""
    earlier = d.alias("earlier")
    waiting = (
        select(literal(1))
        .where(
            earlier.c.endpoint_id == d.c.endpoint_id,
            earlier.c.subject == d.c.subject,
            earlier.c.position < d.c.position,
            earlier.c.status.in_(("pending", "delivering")),
        )
        # OFFSET 0 keeps PostgreSQL from turning this into an anti-join, whose plan depends
        # on statistics: right after a burst of deliveries they still said "empty table",
        # and the join scanned every pending row once per candidate (0.4 s a claim). As a
        # probe per candidate, in due order, it stops at the limit (0.3 ms).
        .offset(0)
        .exists()
    )
    lapsed = select(d.c.id, d.c.endpoint_id, d.c.subject, d.c.position).where(
        d.c.endpoint_id == endpoint_id,
        d.c.status == "delivering",
        d.c.leased_until < now,
        ~waiting,
    )
    due = (
        select(d.c.id, d.c.endpoint_id, d.c.subject, d.c.position)
        .where(
            d.c.endpoint_id == endpoint_id,
            d.c.status == "pending",
            d.c.next_attempt_at <= now,
            ~waiting,
        )
        .order_by(d.c.next_attempt_at, d.c.position)
    )
    found: list[Any] = []
    for query in (lapsed.order_by(d.c.position), due):
        query = query.limit(limit - len(found))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=d)
        found += conn.execute(query)
        if len(found) >= limit:
            break
    return found


def hold_behind(conn: Connection, endpoint_id: str, subject: str, position: int, at: int) -> None:
    """A delivery failed and is retried at ``at``: the customer's later ones cannot go before
    then, so they are not due before then either (claims do not walk over them)."""
    conn.execute(
        update(d)
        .where(
            d.c.endpoint_id == endpoint_id,
            d.c.subject == subject,
            d.c.position > position,
            d.c.status == "pending",
            d.c.next_attempt_at < at,
        )
        .values(next_attempt_at=at)
    )


def _followers(conn: Connection, heads: list[Any], now: int, chain: int) -> list[str]:
    """The ids that follow each head in its chain."""
    first = {(h.endpoint_id, h.subject): h.position for h in heads}
    n = (
        func.row_number()
        .over(partition_by=(d.c.endpoint_id, d.c.subject), order_by=d.c.position)
        .label("n")
    )
    # Every unfinished delivery of these customers, numbered in order: a chain goes on only
    # through pending, due ones, and stops at the first that is not (one still leased to a
    # worker that died, one waiting for its retry): nothing overtakes it.
    after = (
        select(
            d.c.id, d.c.endpoint_id, d.c.subject, d.c.position, d.c.status, d.c.next_attempt_at, n
        )
        .where(
            d.c.status.in_(("pending", "delivering")),
            d.c.subject.in_(sorted({h.subject for h in heads})),
            d.c.endpoint_id.in_(sorted({h.endpoint_id for h in heads})),
        )
        .subquery()
    )
    ids: list[str] = []
    stopped: set[tuple[str, str]] = set()
    for row in conn.execute(select(after).where(after.c.n <= chain + 1).order_by(after.c.position)):
        pair = (row.endpoint_id, row.subject)
        head = first.get(pair)
        if head is None or row.position <= head or pair in stopped:
            continue
        if row.status != "pending" or row.next_attempt_at > now:
            stopped.add(pair)
            continue
        ids.append(row.id)
    return ids


def release(conn: Connection, ids: Sequence[str]) -> None:
    """Give claimed deliveries back untried (after an earlier one of the chain failed)."""
    if ids:
        conn.execute(
            update(d).where(d.c.id.in_(list(ids))).values(status="pending", leased_until=None)
        )


def finish(conn: Connection, delivery_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(d).where(d.c.id == delivery_id).values(**values))


OUTCOME = (
    "status",
    "attempts",
    "first_attempt_at",
    "next_attempt_at",
    "last_status_code",
    "last_error",
    "last_duration_ms",
    "delivered_at",
    "leased_until",
)


def finish_many(conn: Connection, outcomes: Sequence[dict[str, Any]]) -> None:
    """Attempts' outcomes (each with ``id`` and every key of OUTCOME), as one executemany: a
    statement per delivery spent more time building statements than writing."""
    if outcomes:
        statement = (
            update(d)
            .where(d.c.id == bindparam("b_id"))
            .values({name: bindparam(f"b_{name}") for name in OUTCOME})
        )
        conn.execute(statement, [{f"b_{k}": v for k, v in o.items()} for o in outcomes])


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
