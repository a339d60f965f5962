"""Preference links, web sessions and rate-limit counters, as stored (keyed hashes only)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from consentry.store.tables import preference_links, rate_events, web_sessions


def insert_link(
    conn: Connection, token_hash: str, customer_id: str, now: int, expires: int
) -> None:
    conn.execute(
        preference_links.insert().values(
            token_hash=token_hash, customer_id=customer_id, created_at=now, expires_at=expires
        )
    )


def link(conn: Connection, token_hash: str, *, for_update: bool = False) -> Any | None:
    query = select(preference_links).where(preference_links.c.token_hash == token_hash)
    return conn.execute(query.with_for_update() if for_update else query).first()


def use_link(conn: Connection, token_hash: str, now: int) -> bool:
    """Mark the link used; False when another request used it first."""
    return (
        conn.execute(
            update(preference_links)
            .where(
                preference_links.c.token_hash == token_hash, preference_links.c.used_at.is_(None)
            )
            .values(used_at=now)
        ).rowcount
        == 1
    )


def insert_session(
    conn: Connection,
    token_hash: str,
    *,
    customer_id: str | None,
    staff_id: str | None,
    csrf: str,
    now: int,
    expires: int,
) -> None:
    conn.execute(
        web_sessions.insert().values(
            token_hash=token_hash,
            customer_id=customer_id,
            staff_id=staff_id,
            csrf=csrf,
            created_at=now,
            expires_at=expires,
        )
    )


def session(conn: Connection, token_hash: str) -> Any | None:
    return conn.execute(select(web_sessions).where(web_sessions.c.token_hash == token_hash)).first()


def end_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))


def count_events(conn: Connection, key: str, since: int) -> int:
    return int(
        conn.execute(
            select(func.count()).where(rate_events.c.key == key, rate_events.c.at >= since)
        ).scalar_one()
    )


def add_event(conn: Connection, key: str, now: int) -> None:
    conn.execute(rate_events.insert().values(key=key, at=now))


def links_of(conn: Connection, customer_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(preference_links)
            .where(preference_links.c.customer_id == customer_id)
            .order_by(preference_links.c.created_at)
        )
    )


def sessions_of(conn: Connection, customer_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(web_sessions)
            .where(web_sessions.c.customer_id == customer_id)
            .order_by(web_sessions.c.created_at)
        )
    )


def forget_expired(conn: Connection, now: int, rate_window: int) -> int:
    gone = conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < now)).rowcount
    gone += conn.execute(
        delete(preference_links).where(preference_links.c.expires_at < now)
    ).rowcount
    gone += conn.execute(delete(rate_events).where(rate_events.c.at < now - rate_window)).rowcount
    return int(gone)
