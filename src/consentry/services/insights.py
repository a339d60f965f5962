"""Insights: counts of what customers do with their consents, maintained from the outbox
and shown only where they cover at least ``insights_k`` customers (domain/insights.py).

The counter reads sequenced changes after its place, like a webhook endpoint or the NATS
mirror, and moves its place in the transaction that adds the counts: every change is counted
once, across crashes and restarts, without adding anything to the consent write itself."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from consentry.domain.changes import ChangeType
from consentry.domain.clock import from_micros
from consentry.domain.insights import (
    PERIODS,
    FlowCell,
    Level,
    check_range,
    day_of,
    period_start,
    shown,
    shown_levels,
)
from consentry.services.hub import Hub
from consentry.store import insights as store
from consentry.store import outbox

log = logging.getLogger("consentry.insights")

COUNT_LOCK = 0x696E7367  # "insg"
SNAPSHOT_LOCK = 0x696E736C  # "insl"
BATCH = 5_000


def member_of(hub: Hub, customer_id: str) -> str:
    """The blind index that counts a customer once in a cell (and finds their rows on erasure)."""
    return hub.vault.blind("insights", customer_id)


def _counted(change_type: str, body: dict[str, Any]) -> bool:
    """The changes the consent flows count: grants and withdrawals and unconfirmed grants that
    decided the state, and every box left unticked (a refusal is a "no" said, whether or not
    a grant already in effect outweighs it)."""
    if change_type == ChangeType.CONSENT_REFUSED.value:
        return True
    counted = (ChangeType.CONSENT_CHANGED.value, ChangeType.CONSENT_REQUESTED.value)
    return change_type in counted and bool(body.get("in_force"))


def count_new(hub: Hub) -> int:
    """Count the changes sequenced since the last time; how many were read."""
    with hub.db.read() as conn:  # most looks find nothing: no write transaction then
        if outbox.last_position(conn) <= store.place(conn):
            return 0
    timezone = ZoneInfo(hub.settings.insights_timezone)
    read = 0
    while True:
        with hub.db.write() as conn:
            hub.db.advisory_lock(conn, COUNT_LOCK)
            position = store.place(conn)
            changes = outbox.after(conn, position, outbox.last_position(conn), BATCH, None)
            if not changes:
                return read
            members: dict[tuple[Any, ...], dict[str, Any]] = {}
            erased: list[str] = []
            for change in changes:
                if change.type == ChangeType.CUSTOMER_ERASED.value:
                    erased.append(change.subject)
                    continue
                body = change.body
                if not _counted(change.type, body):
                    continue
                try:
                    day = day_of(body["captured_at"], timezone)
                except (KeyError, TypeError, ValueError) as exc:
                    # A change it cannot read is set aside (counted nowhere) and reported,
                    # never retried for ever: the changes after it are still counted.
                    log.warning(
                        "insights: change at position %d set aside (%s)",
                        change.position,
                        type(exc).__name__,
                    )
                    continue
                member = member_of(hub, change.subject)
                for period in PERIODS:
                    row = {
                        "period": period,
                        "day": period_start(day, period),
                        "purpose": body["purpose"],
                        "channel": body["channel"] or "*",
                        # Changes announced before sources were, have none.
                        "source": body.get("source") or "unknown",
                        "action": body["action"],
                        "member": member,
                    }
                    members[tuple(row.values())] = row
            # Rows in key order, so that two transactions lock shared rows in the same order
            # and never wait for each other in a cycle (a deadlock on PostgreSQL).
            added = store.add_members(conn, [members[k] for k in sorted(members)])
            store.add_to_cells(conn, Counter(tuple(a[c] for c in store.CELL) for a in added))
            # After the batch's members are in: an erasure in the same batch as the
            # customer's last changes must remove those too.
            for customer_id in erased:
                store.forget_member(conn, member_of(hub, customer_id))
            store.set_place(conn, changes[-1].position)
            read += len(changes)
            if len(changes) < BATCH:  # the last batch: no empty transaction to find out
                return read


def today(hub: Hub) -> date:
    """The retailer's calendar day now (insights count in its time zone)."""
    zone = ZoneInfo(hub.settings.insights_timezone)
    return from_micros(hub.now_micros()).astimezone(zone).date()


def snapshot_levels(hub: Hub) -> int:
    """Today's consent levels (customers with each purpose granted, out of all), replacing
    today's earlier snapshot: the server takes one an hour, so each day keeps its last."""
    today = from_micros(hub.now_micros()).astimezone(ZoneInfo(hub.settings.insights_timezone))
    with hub.db.write() as conn:
        return store.snapshot(conn, today.date())


def rates(hub: Hub, first: date, last: date, purpose: str | None = None) -> list[dict[str, object]]:
    """The consent rate per day, purpose and channel; hidden where fewer than ``insights_k``
    customers granted or did not."""
    check_range(first, last)
    with hub.db.read() as conn:
        rows = store.levels_between(conn, first, last, purpose)
    found = [Level(r.day, r.purpose, r.channel, r.granted, r.customers) for r in rows]
    return shown_levels(found, hub.settings.insights_k)


def busiest(
    hub: Hub, first: date, last: date, period: str, among: list[str]
) -> tuple[str, str] | None:
    """Of the purposes ``among``, the purpose and channel whose changes per ``period`` in the
    range show the most customers (counts under k are not shown, so not counted): the consent
    insights open on it rather than on an empty chart."""
    reached: dict[tuple[str, str], int] = {}
    for row in flows(hub, first, last, None, period):
        customers = row["customers"]
        if isinstance(customers, int) and row["purpose"] in among:
            key = (str(row["purpose"]), str(row["channel"]))
            reached[key] = reached.get(key, 0) + customers
    return max(reached, key=lambda key: reached[key]) if reached else None


def flows(
    hub: Hub,
    first: date,
    last: date,
    purpose: str | None = None,
    period: str = "day",
    channel: str | None = None,
) -> list[dict[str, object]]:
    """Grants and withdrawals per day, week or month (the periods that start within the
    range), purpose, channel and source, in distinct customers; a cell of fewer than
    ``insights_k`` customers without its count."""
    check_range(first, last)
    with hub.db.read() as conn:
        rows = store.cells(conn, period, first, last, purpose, channel)
    cells = [
        FlowCell(r.period, r.day, r.purpose, r.channel, r.source, r.action, r.customers)
        for r in rows
    ]
    return shown(cells, hub.settings.insights_k)
