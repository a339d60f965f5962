"""Stored answers to writes sent with an Idempotency-Key."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, select, text

from consentry.store.tables import idempotency_keys


def find(conn: Connection, app_id: str, key: str) -> Any | None:
    return conn.execute(
        select(idempotency_keys).where(
            idempotency_keys.c.app_id == app_id, idempotency_keys.c.key == key
        )
    ).first()


def save(
    conn: Connection,
    app_id: str,
    key: str,
    request_hash: str,
    status: int,
    body: bytes,
    now: int,
    customer_id: str | None,
) -> None:
    conn.execute(
        idempotency_keys.insert().values(
            app_id=app_id,
            key=key,
            request_hash=request_hash,
            status_code=status,
            body=body,
            customer_id=customer_id,
            created_at=now,
        )
    )


def forget_before(conn: Connection, before: int) -> int:
    return conn.execute(
        delete(idempotency_keys).where(idempotency_keys.c.created_at < before)
    ).rowcount


def claim(conn: Connection, app_id: str, key: str) -> bool:
    """Hold the key for this transaction; False when another transaction holds it (another
    process is answering a request with it). PostgreSQL only: SQLite's writers take turns."""
    if conn.dialect.name != "postgresql":
        return True
    return bool(
        conn.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 7))"),
            {"k": f"idempotency:{app_id}:{key}"},  # app ids hold no ":"
        ).scalar()
    )
