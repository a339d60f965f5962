"""Erasure that reaches every app: apps declare that they hold customer data; an erasure
records, for each of them, whether it has deleted its copy (acknowledged through
``POST /v1/erasures/{id}/ack``); the ``customer.erased`` change names the erasure; apps that have
not acknowledged are reminded daily (``customer.erasure_pending``) until they do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from consentry.domain.access import Caller
from consentry.domain.changes import ChangeType
from consentry.domain.clock import rfc3339_micros
from consentry.domain.errors import Conflict, NotFound
from consentry.domain.ids import new_id
from consentry.services import changes
from consentry.services.hub import Hub
from consentry.store import apps as app_store
from consentry.store import erasures as store

DAY = 86_400_000_000


def declare(hub: Hub, conn: Connection, app_id: str, holds: bool) -> dict[str, Any]:
    """An app holds customer data (a CRM, a mailer's list) or no longer does."""
    if app_store.get(conn, app_id) is None:
        raise NotFound(f"no app {app_id!r}")
    store.declare(conn, app_id, holds, hub.now_micros())
    return {"app": app_id, "holds_customer_data": holds}


def start(hub: Hub, conn: Connection, customer_id: str, now: int) -> dict[str, Any]:
    """Inside the erasure's transaction: one acknowledgement to wait for per data holder."""
    erasure_id = new_id("era")
    holders = store.holders(conn)
    store.create(conn, erasure_id, customer_id, holders, now)
    changes.announce(
        hub,
        conn,
        ChangeType.CUSTOMER_ERASED,
        customer_id,
        None,
        {"erased_at": rfc3339_micros(now), "erasure": erasure_id, "apps_to_confirm": holders},
    )
    return {"id": erasure_id, "deleted_from": [], "pending_at": holders}


def erasure_json(hub: Hub, conn: Connection, erasure_id: str) -> dict[str, Any]:
    row = store.get(conn, erasure_id)
    if row is None:
        raise NotFound(f"no erasure {erasure_id!r}")
    acks = store.acks(conn, erasure_id)
    names = {}
    for ack in acks:
        app = app_store.get(conn, ack.app_id)
        names[ack.app_id] = app.name if app is not None else ack.app_id
    return {
        "id": row.id,
        "customer": row.subject,
        "requested_at": rfc3339_micros(row.requested_at),
        "deleted_from": [
            {"app": a.app_id, "name": names[a.app_id], "at": rfc3339_micros(a.acknowledged_at)}
            for a in acks
            if a.acknowledged_at is not None
        ],
        "pending_at": [
            {"app": a.app_id, "name": names[a.app_id], "reminders": a.reminders}
            for a in acks
            if a.acknowledged_at is None
        ],
    }


def get(hub: Hub, erasure_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        return erasure_json(hub, conn, erasure_id)


def pending(hub: Hub, limit: int = 100) -> list[dict[str, Any]]:
    """Erasures some app has not confirmed yet (the admin's list)."""
    with hub.db.read() as conn:
        return [erasure_json(hub, conn, e) for e in store.pending_ids(conn, limit)]


def acknowledge(hub: Hub, conn: Connection, caller: Caller, erasure_id: str) -> dict[str, Any]:
    """The calling app has deleted the customer's data."""
    if store.get(conn, erasure_id) is None:
        raise NotFound(f"no erasure {erasure_id!r}")
    if caller.app_id not in {a.app_id for a in store.acks(conn, erasure_id)}:
        raise Conflict(
            f"erasure {erasure_id!r} does not wait for this app: it had not declared that it "
            "holds customer data when the customer was erased"
        )
    store.acknowledge(conn, erasure_id, caller.app_id, hub.now_micros())
    return erasure_json(hub, conn, erasure_id)


def remind(hub: Hub) -> int:
    """Once a day, remind the apps that have not confirmed an erasure (the change names them,
    and only they get it: see ``domain.changes.audience``)."""
    now = hub.now_micros()
    with hub.db.write() as conn:
        due = store.due_reminders(conn, now - DAY)
        waiting: dict[str, tuple[str, list[str]]] = {}
        for row in due:
            waiting.setdefault(row.erasure_id, (row.subject, []))[1].append(row.app_id)
            store.reminded(conn, row.erasure_id, row.app_id, now)
        for erasure_id, (subject, app_ids) in waiting.items():
            changes.announce(
                hub,
                conn,
                ChangeType.CUSTOMER_ERASURE_PENDING,
                subject,
                None,
                {"erasure": erasure_id, "apps_to_confirm": sorted(app_ids)},
            )
    return len(waiting)
