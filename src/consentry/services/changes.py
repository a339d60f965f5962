"""Announcing changes: the outbox write every change makes in its own transaction, and the
change feed apps pull with a cursor (``GET /v1/changes``)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
from sqlalchemy import Connection

from consentry.domain.access import ALL_PURPOSES, Caller
from consentry.domain.changes import ChangeType, audience
from consentry.domain.clock import rfc3339_micros
from consentry.domain.errors import InvalidInput
from consentry.services import checkpoints
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


def _limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}",
            [{"loc": ["query", "limit"], "msg": f"between 1 and {MAX_LIMIT}"}],
        )


async def _read(hub: Hub, caller: Caller, position: int, limit: int) -> dict[str, Any]:
    """Changes after the position, in order; only those the
    app may see (its purposes, and the changes about no purpose: erasure and restriction) and
    that are meant for it (an erasure reminder is for the apps that still have to confirm; the
    admin sees every one).

    One statement (store/quick.py); each change's data is copied from its stored JSON text
    into the answer, unparsed (a page of a hundred changes spent most of its time parsing
    and writing them again)."""
    purposes = None if ALL_PURPOSES in caller.purposes else caller.purposes
    # The bound is read in the same statement as the page: a position given out meanwhile is
    # not passed over. An app that may see few of the changes still moves on: its cursor goes
    # to the last position looked at, not the last shown.
    bound, rows = await hub.quick.changes(position, limit, purposes)
    seen_to = rows[-1][0] if len(rows) == limit else max(position, bound)
    every = caller.is_admin
    shown = [
        {
            "id": f"chg_{at}",
            "position": at,
            "type": kind,
            "customer": subject,
            "purpose": purpose,
            "at": rfc3339_micros(created_at),
            "data": orjson.Fragment(body),
        }
        for at, kind, subject, purpose, body, created_at in rows
        if every or _meant_for(caller, kind, body)
    ]
    checkpoint = checkpoints.fresh_checkpoint(hub) or await asyncio.to_thread(
        checkpoints.recent_checkpoint, hub
    )
    return {"changes": shown, "next": encode_cursor(seen_to), "checkpoint": checkpoint}


def _meant_for(caller: Caller, kind: str, body: str) -> bool:
    if kind != ChangeType.CUSTOMER_ERASURE_PENDING:  # the one kind with an audience
        return True
    addressed = audience(kind, orjson.loads(body))
    return addressed is None or caller.app_id in addressed


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
    _limit(limit)
    position = _position(after)
    deadline = time.monotonic() + wait
    while True:
        answer = await _read(hub, caller, position, limit)
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
