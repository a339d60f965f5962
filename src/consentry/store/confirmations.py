"""Double opt-in confirmations, by keyed hash of their link's token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, exists, insert, select, update

from consentry.store.tables import confirmations, consent_state


def insert_confirmation(conn: Connection, **values: Any) -> None:
    conn.execute(insert(confirmations).values(**values))


def get(conn: Connection, token_hash: str, *, for_update: bool = False) -> Any | None:
    query = select(confirmations).where(confirmations.c.token_hash == token_hash)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def mark_confirmed(conn: Connection, token_hash: str, now: int) -> bool:
    """Confirmed once: False when another request confirmed it first."""
    done = conn.execute(
        update(confirmations)
        .where(confirmations.c.token_hash == token_hash, confirmations.c.confirmed_at.is_(None))
        .values(confirmed_at=now)
    )
    return done.rowcount == 1


def unsent(
    conn: Connection, *, customer_id: str | None, created_before: int, now: int, limit: int
) -> list[Any]:
    """Unexpired confirmations whose message has not gone out yet (of one customer, or any)."""
    query = select(confirmations).where(
        confirmations.c.sent_at.is_(None),
        confirmations.c.created_at < created_before,
        confirmations.c.expires_at > now,
    )
    if customer_id is not None:
        query = query.where(confirmations.c.customer_id == customer_id)
    return list(conn.execute(query.order_by(confirmations.c.created_at).limit(limit)))


def mark_sent(conn: Connection, token_hash: str, now: int) -> bool:
    done = conn.execute(
        update(confirmations)
        .where(confirmations.c.token_hash == token_hash, confirmations.c.sent_at.is_(None))
        .values(sent_at=now)
    )
    return done.rowcount == 1


def all_sent_when_made(conn: Connection) -> None:
    """Every confirmation counted as sent when it was made: for a history brought in from
    elsewhere (the demo's year), whose messages went out back then."""
    conn.execute(
        update(confirmations)
        .where(confirmations.c.sent_at.is_(None))
        .values(sent_at=confirmations.c.created_at)
    )


def unmark(conn: Connection, token_hash: str, column: str) -> None:
    """Give a claim back (its message could not be sent): the loop tries again."""
    conn.execute(
        update(confirmations).where(confirmations.c.token_hash == token_hash).values({column: None})
    )


def due_reminders(conn: Connection, created_before: int, now: int, limit: int) -> list[Any]:
    """Unconfirmed, unreminded and unexpired confirmations made before ``created_before``
    whose request still decides its scope (a customer who withdrew since is not reminded)."""
    c, s = confirmations.c, consent_state.c
    still_asked = exists().where(
        s.customer_id == c.customer_id,
        s.purpose == c.purpose,
        s.channel == c.channel,
        s.record_id == c.request_record,
    )
    return list(
        conn.execute(
            select(confirmations)
            .where(
                c.confirmed_at.is_(None),
                c.reminded_at.is_(None),
                c.created_at < created_before,
                c.expires_at > now,
                still_asked,
            )
            .order_by(confirmations.c.created_at)
            .limit(limit)
        )
    )


def mark_reminded(conn: Connection, token_hash: str, now: int) -> bool:
    done = conn.execute(
        update(confirmations)
        .where(confirmations.c.token_hash == token_hash, confirmations.c.reminded_at.is_(None))
        .values(reminded_at=now)
    )
    return done.rowcount == 1


def of_customer(conn: Connection, customer_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(confirmations)
            .where(confirmations.c.customer_id == customer_id)
            .order_by(confirmations.c.created_at)
        )
    )
