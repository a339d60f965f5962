"""Announcing changes: the outbox write every change makes in its own transaction, and the
change feed apps pull with a cursor (``GET /v1/changes``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from sqlalchemy import Connection

from consentry.domain.access import ALL_PURPOSES, Caller
from consentry.domain.changes import ChangeType, audience
from consentry.domain.clock import rfc3339_micros
from consentry.domain.errors import InvalidInput
from consentry.services.hub import Hub
from consentry.store import outbox
from consentry.store import webhooks as webhook_store
from consentry.store.outbox import Announcement
from consentry.store.pagination import decode_cursor, encode_cursor

MAX_WAIT = 30.0
MAX_LIMIT = 10_000


def announce(
    hub: Hub,
    conn: Connection,
    change: ChangeType,
    customer_id: str,
    purpose: str | None,
    body: dict[str, Any],
) -> None:
    """Write a change to the outbox (inside the caller's transaction)."""
    outbox.append(conn, change.value, customer_id, purpose, body, hub.now_micros())


def announcement(
    hub: Hub, change: ChangeType, customer_id: str, purpose: str | None, body: dict[str, Any]
) -> Announcement:
    """A change's outbox row, for a store function that writes it with the change itself."""
    return Announcement(change.value, customer_id, purpose, body, hub.now_micros())


def change_json(row: Any) -> dict[str, Any]:
    return {
        "id": f"chg_{row.position}",
        "position": row.position,
        "type": row.type,
        "customer": row.subject,
        "purpose": row.purpose,
        "at": rfc3339_micros(row.created_at),
        "data": row.body,
    }


def _position(cursor: str | None) -> int:
    decoded = decode_cursor(cursor)
    if decoded is None:
        return 0
    if not isinstance(decoded, int) or decoded < 0:
        raise InvalidInput(
            "the cursor is not one this server gave out",
            [{"loc": ["query", "after"], "msg": "unknown cursor"}],
        )
    return decoded


def read(hub: Hub, caller: Caller, after: str | None, limit: int) -> dict[str, Any]:
    """Changes after the cursor, in order; only those the app may see (its purposes, and the
    changes about no purpose: erasure and restriction) and that are meant for it (an erasure
    reminder is for the apps that still have to confirm; the admin sees every one)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}",
            [{"loc": ["query", "limit"], "msg": f"between 1 and {MAX_LIMIT}"}],
        )
    position = _position(after)
    purposes = None if ALL_PURPOSES in caller.purposes else caller.purposes
    with hub.db.read() as conn:
        # The bound first: a position given out between two statements (PostgreSQL reads each
        # statement afresh) must not be passed over. An app that may see few of the changes
        # still moves on: its cursor goes to the last position looked at, not the last shown.
        bound = outbox.last_position(conn)
        rows = outbox.after(conn, position, bound, limit, purposes)
        seen_to = rows[-1].position if len(rows) == limit else max(position, bound)
    shown = [
        r
        for r in rows
        if caller.is_admin
        or (addressed := audience(r.type, r.body)) is None
        or caller.app_id in addressed
    ]
    return {"changes": [change_json(r) for r in shown], "next": encode_cursor(seen_to)}


async def wait_and_read(
    hub: Hub, caller: Caller, after: str | None, limit: int, wait: float
) -> dict[str, Any]:
    """Long-poll: answer at once if there is something, else look again every 100 ms until
    ``wait`` seconds have passed."""
    if not 0 <= wait <= MAX_WAIT:
        raise InvalidInput(
            f"wait must be between 0 and {MAX_WAIT:g} seconds",
            [{"loc": ["query", "wait"], "msg": f"between 0 and {MAX_WAIT:g}"}],
        )
    deadline = time.monotonic() + wait
    while True:
        answer = await asyncio.to_thread(read, hub, caller, after, limit)
        if answer["changes"] or time.monotonic() >= deadline:
            return answer
        await asyncio.sleep(0.1)


def announced(hub: Hub, customer_id: str) -> list[dict[str, Any]]:
    """What the other apps were told about the customer (the export shows it)."""
    with hub.db.read() as conn:
        rows = outbox.of_subject(conn, customer_id)
        sent: dict[int, list[dict[str, Any]]] = {}
        for d in webhook_store.deliveries_of_subject(conn, customer_id):
            sent.setdefault(d.position, []).append({"endpoint": d.endpoint_id, "status": d.status})
    return [
        {
            "type": r.type,
            "purpose": r.purpose,
            "at": rfc3339_micros(r.created_at),
            "position": r.position,
            "data": r.body,
            "webhooks": sent.get(r.position, []),
        }
        for r in rows
    ]
