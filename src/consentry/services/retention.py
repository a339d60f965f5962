"""Retention: what is deleted once it is old enough (settings ``retention_*``).

- The access log: entries older than ``retention_access_log_days``.
- Stored answers to idempotent writes: after their 24-hour window.
- Inactive customers: no consent granted in force, and no evidence captured, for
  ``retention_inactive_customer_days`` — they are erased like any erasure (key shredded).
- Events: purchases and returns after ``retention_purchase_days`` (730), visits, views and app
  opens after ``retention_behaviour_days`` (180).
- Orphan data keys: keys in the key store for a customer the database never committed (a
  creation that failed after its key was stored), an hour after they were made.
- Answers that expire (intentions such as "planning a beach holiday"): once expired. Declines
  are kept (they are what stops a question being asked again), without any value.
- The change feed's outbox and finished webhook deliveries: after 30 days
  (``domain.changes.FEED_DAYS``); a reader further behind starts from the oldest change kept.
- Erasures some app has not confirmed: a ``customer.erasure_pending`` reminder a day.
- Decisions (which offers were chosen for a customer, and why) and the notifications of
  real-time triggers: after ``retention_decision_days`` (365). Caps only look back a few days.

Each policy works in small committed batches, so ``consentry retention run`` can be
interrupted at any point and run again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sqlalchemy import Connection, Select, and_, delete, exists, select

from consentry.domain.changes import FEED_DAYS
from consentry.domain.consent import CustomerStatus
from consentry.domain.errors import CustomerErased, CustomerNotFound
from consentry.domain.events import EventType
from consentry.services import customers, erasures, insight_counts
from consentry.services.hub import Hub
from consentry.services.idempotency import WINDOW_MICROS
from consentry.store import access_log, outbox, web
from consentry.store import decisions as decision_store
from consentry.store import events as event_store
from consentry.store import triggers as trigger_store
from consentry.store import webhooks as webhook_store
from consentry.store.customers import states
from consentry.store.tables import consent_state, evidence_records, idempotency_keys
from consentry.store.tables import customers as customer_table

DAY = 86_400_000_000
BATCH = 5_000
ORPHAN_AGE = 3_600_000_000


@dataclass
class RetentionReport:
    access_entries: int = 0
    stored_answers: int = 0
    customers_erased: int = 0
    orphan_keys: int = 0
    expired_web: int = 0  # preference links, web sessions, rate-limit counters
    events: int = 0
    expired_answers: int = 0
    decisions: int = 0
    changes: int = 0
    erasure_reminders: int = 0


def run(hub: Hub) -> RetentionReport:
    report = RetentionReport()
    now = hub.now_micros()
    settings = hub.settings
    report.access_entries = _in_batches(
        hub,
        lambda conn: access_log.forget_before(
            conn, now - settings.retention_access_log_days * DAY, BATCH
        ),
    )
    kept_days = {
        EventType.PURCHASE: settings.retention_purchase_days,
        EventType.RETURN: settings.retention_purchase_days,
        EventType.STORE_VISIT: settings.retention_behaviour_days,
        EventType.PRODUCT_VIEW: settings.retention_behaviour_days,
        EventType.APP_OPEN: settings.retention_behaviour_days,
    }
    for event_type, days in kept_days.items():
        report.events += _in_batches(
            hub,
            partial(
                event_store.forget_before,
                event_type=event_type,
                before=now - days * DAY,
                limit=BATCH,
            ),
        )
    report.expired_answers = _in_batches(
        hub, lambda conn: insight_counts.forget_expired_answers(hub, conn, now, BATCH)
    )
    decided_before = now - settings.retention_decision_days * DAY
    report.decisions = _in_batches(
        hub, lambda conn: decision_store.forget_before(conn, decided_before, BATCH)
    ) + _in_batches(hub, lambda conn: trigger_store.forget_before(conn, decided_before, BATCH))
    report.changes = _in_batches(
        hub, lambda conn: outbox.forget_before(conn, now - FEED_DAYS * DAY, BATCH)
    ) + _in_batches(
        hub, lambda conn: webhook_store.forget_before(conn, now - FEED_DAYS * DAY, BATCH)
    )
    with hub.db.write() as conn:
        report.stored_answers = conn.execute(
            delete(idempotency_keys).where(idempotency_keys.c.created_at < now - WINDOW_MICROS)
        ).rowcount
    cutoff = now - settings.retention_inactive_customer_days * DAY
    while True:
        with hub.db.read() as conn:
            stale = list(conn.execute(_inactive(cutoff)).scalars())
        for customer_id in stale:
            try:
                customers.erase(hub, customer_id)
                report.customers_erased += 1
            except (CustomerErased, CustomerNotFound):
                continue  # another process got there first
        if len(stale) < BATCH:
            break
    report.erasure_reminders = erasures.remind(hub)
    report.orphan_keys = _orphan_keys(hub, now)
    with hub.db.write() as conn:
        report.expired_web = web.forget_expired(conn, now, rate_window=DAY)
    return report


def _in_batches(hub: Hub, forget: Callable[[Connection], int]) -> int:
    """Run one policy in committed batches until a batch comes back short; rows deleted."""
    total = 0
    while True:
        with hub.db.write() as conn:
            n = forget(conn)
        total += n
        if n < BATCH:
            return total


def _inactive(cutoff: int) -> Select[Any]:
    c = customer_table
    return (
        select(c.c.id)
        .where(
            c.c.status == CustomerStatus.ACTIVE.value,
            c.c.created_at < cutoff,
            ~exists().where(
                and_(consent_state.c.customer_id == c.c.id, consent_state.c.action == "grant")
            ),
            ~exists().where(
                and_(
                    evidence_records.c.customer_id == c.c.id,
                    evidence_records.c.captured_at >= cutoff,
                )
            ),
        )
        .limit(BATCH)
    )


def _orphan_keys(hub: Hub, now: int) -> int:
    """Keys whose customer never committed, once they are an hour old. The sweep looks only at
    keys made in one run interval (and a margin) before that hour: every key is looked at about
    once, not every key at every run (a bulk import makes a million keys at once)."""
    deleted = 0
    window = int(hub.settings.retention_interval * 1_000_000) + 10 * 60_000_000
    for ids in hub.vault.keystore.made_between(now - ORPHAN_AGE - window, now - ORPHAN_AGE):
        with hub.db.read() as conn:
            known = states(conn, ids)
        # System keys (``sys_…``: the webhook secrets' key) belong to no customer.
        orphans = [cid for cid in ids if cid not in known and not cid.startswith("sys_")]
        if orphans:
            deleted += hub.vault.shred(orphans)
    return deleted
