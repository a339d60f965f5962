"""Decisions as logged, and the offers customers dismissed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from consentry.store.tables import decisions, offer_dismissals


def insert_decision(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(decisions).values(**row))


def sends_since(conn: Connection, customer_id: str, channel: str, since: int) -> int:
    """Decisions that chose something on this channel since then (for the channel's cap)."""
    return int(
        conn.execute(
            select(func.count())
            .select_from(decisions)
            .where(
                decisions.c.customer_id == customer_id,
                decisions.c.decided_at >= since,
                decisions.c.channel == channel,
                decisions.c.chosen > 0,
            )
        ).scalar_one()
    )


def of_customer(conn: Connection, customer_id: str, limit: int | None = None) -> list[Any]:
    query = (
        select(decisions)
        .where(decisions.c.customer_id == customer_id)
        .order_by(decisions.c.decided_at.desc(), decisions.c.id.desc())
    )
    return list(conn.execute(query.limit(limit) if limit else query))


def shown_counts(conn: Connection, customer_id: str) -> dict[str, int]:
    """How often each offer was chosen for the customer (for offers' caps)."""
    counts: dict[str, int] = {}
    for (ids,) in conn.execute(
        select(decisions.c.offer_ids).where(decisions.c.customer_id == customer_id)
    ):
        for offer_id in ids:
            counts[offer_id] = counts.get(offer_id, 0) + 1
    return counts


def dismissed(conn: Connection, customer_id: str) -> frozenset[str]:
    return frozenset(
        conn.execute(
            select(offer_dismissals.c.offer_id).where(offer_dismissals.c.customer_id == customer_id)
        ).scalars()
    )


def dismissals_of(conn: Connection, customer_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(offer_dismissals)
            .where(offer_dismissals.c.customer_id == customer_id)
            .order_by(offer_dismissals.c.at)
        )
    )


def dismiss(conn: Connection, customer_id: str, offer_id: str, at: int) -> None:
    exists = conn.execute(
        select(offer_dismissals.c.at).where(
            offer_dismissals.c.customer_id == customer_id, offer_dismissals.c.offer_id == offer_id
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(offer_dismissals).values(customer_id=customer_id, offer_id=offer_id, at=at)
        )


def undismiss(conn: Connection, customer_id: str, offer_id: str) -> bool:
    return (
        conn.execute(
            delete(offer_dismissals).where(
                offer_dismissals.c.customer_id == customer_id,
                offer_dismissals.c.offer_id == offer_id,
            )
        ).rowcount
        == 1
    )


def forget_before(conn: Connection, before: int, limit: int) -> int:
    old = select(decisions.c.id).where(decisions.c.decided_at < before).limit(limit)
    return int(conn.execute(delete(decisions).where(decisions.c.id.in_(old))).rowcount)
