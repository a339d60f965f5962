"""Real-time triggers: loaded with the catalogue, run inside the transaction that stores the
events (so a notification exists exactly when its event does), and the notifications they
record — shown at the store's staff desk, and announced as ``notification.created`` on the
outbox (change feed, webhooks, NATS) for the app or mailer that delivers pushes and e-mails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from consentry.domain.changes import ChangeType
from consentry.domain.clock import rfc3339_micros, to_micros
from consentry.domain.consent import ALL_CHANNELS, decide, in_force
from consentry.domain.data_use import Fact, Provenance
from consentry.domain.decisions import Choice, Chosen, Signal
from consentry.domain.errors import NotFound
from consentry.domain.events import DETAILS
from consentry.domain.ids import new_id
from consentry.domain.triggers import (
    CHANNEL_OF,
    Notify,
    Seen,
    Then,
    Trigger,
    describe,
    due_at,
    fires,
)
from consentry.services import catalogue as catalogue_service
from consentry.services import changes, customers, decisions
from consentry.services.hub import Hub
from consentry.store import consents as consent_store
from consentry.store import events as event_store
from consentry.store import purposes as purpose_store
from consentry.store import triggers as store
from consentry.store.customers import CustomerRow

# Only events this recent react: a file of last year's purchases must not wake anyone up.
REAL_TIME = 3_600_000_000
SEALED = "notification"


# -- reacting to events


def react(hub: Hub, conn: Connection, new: Sequence[tuple[str, str, str, int, Any]]) -> int:
    """Run the triggers for events just stored in this transaction: (id, customer, type,
    occurred_at, EventIn). The notifications they record, counted."""
    loaded = catalogue_service.current(hub, conn)
    triggers = loaded.triggers
    if not triggers:
        return 0
    category_for = loaded.catalogue.category_for
    now = hub.now_micros()
    types = {t.on for t in triggers}
    by_customer: dict[str, list[Seen]] = {}
    for event_id, customer_id, event_type, at, body in new:
        if event_type in types and at >= now - REAL_TIME:
            by_customer.setdefault(customer_id, []).append(
                Seen(event_id, event_type, at, category_for(body.sku, body.category), body.store)
            )
    recorded = 0
    longest = max(
        [t.count.within for t in triggers if t.count]
        + [t.unless.within for t in triggers if t.unless]
        + [0]
    )
    for customer_id in sorted(by_customer):
        customer = customers.require_active(conn, customer_id, for_update=True)
        events = sorted(by_customer[customer_id], key=lambda s: s.at)
        recent = _seen(hub, conn, customer_id, events[0].at - longest)
        last = store.last_fired(conn, customer_id)
        notified = store.notification_times(conn, customer_id)
        for event in events:
            for trigger in triggers:
                sent = notified.setdefault(trigger.id, [])
                if not fires(trigger, event, recent, last.get(trigger.id), sent):
                    continue
                store.fired(conn, customer_id, trigger.id, event.at, trigger.id in last)
                last[trigger.id] = event.at
                for then in trigger.then:
                    if _notify(hub, conn, customer, trigger, then, event):
                        recorded += 1
                        sent.append(event.at)
    return recorded


def _seen(hub: Hub, conn: Connection, customer_id: str, since: int) -> list[Seen]:
    """The customer's events since then that they did not exclude."""
    rows = [r for r in event_store.of_customer_since(conn, customer_id, since) if not r.excluded]
    if not rows:
        return []
    key = hub.vault.key(customer_id)
    category_for = catalogue_service.current(hub, conn).catalogue.category_for
    seen = []
    for row in rows:
        details = hub.vault.unseal_json(customer_id, DETAILS, bytes(row.sealed), key)
        category = category_for(details.get("sku"), details.get("category"))
        seen.append(Seen(row.id, row.type, row.occurred_at, category, details.get("store")))
    return seen


def _allows(hub: Hub, conn: Connection, customer: CustomerRow, need: str) -> bool:
    purpose_id, _, channel = need.partition(":")
    purpose = purpose_store.get(conn, purpose_id)
    if purpose is None:
        return False
    state = consent_store.entries(conn, customer.id, purpose_id)
    own = state.get((purpose_id, channel)) if channel else None
    entry = in_force(own, state.get((purpose_id, ALL_CHANNELS)))
    return decide(purpose, entry, hub.now_micros(), restricted=customer.restricted).allowed


def _notify(
    hub: Hub, conn: Connection, customer: CustomerRow, trigger: Trigger, then: Then, event: Seen
) -> bool:
    """Choose the one offer this action brings, if any, and record its notification."""
    if not all(_allows(hub, conn, customer, need) for need in then.needs):
        return False
    channel = CHANNEL_OF[then.notify]
    cat = catalogue_service.current(hub, conn).catalogue
    fact = Fact(
        Provenance.OBSERVED,
        describe(trigger, event),
        f"event:{event.id}",
        cat.topic_of(event.category),
    )
    allowed = decisions.granted(hub, conn, customer, channel, cat)
    topic_purposes = {t.id: t.purpose for t in cat.topics.values()}
    if not decisions.policy(hub).permitted(fact, allowed, topic_purposes):
        return False  # the firing itself is an observation the customer did not allow us to use
    signals = [Signal(event.category, fact)] if trigger.count and event.category else []
    choice = decisions.choose_in(
        hub,
        conn,
        customer,
        channel,
        store_id=event.store,
        limit=10,
        signals=signals,
        allowed=allowed,  # read once above, for the firing's own fact
    )
    picked = next((c for c in choice.offers if _fits(c, trigger, then, fact)), None)
    context = {"trigger": trigger.id, "event": event.id, "store": event.store}
    if picked is None:
        return False
    reasons = decisions.chosen_json(picked)["reasons"]
    if not any(f["source"] == fact.source for r in reasons for f in r["facts"]):
        reasons.append(
            {
                "text": fact.text,
                "weight": 0.0,
                "facts": [
                    {"provenance": fact.provenance.value, "text": fact.text, "source": fact.source}
                ],
                "allowed_by": list(decisions.policy(hub).needs(Provenance.OBSERVED)),
            }
        )
    logged = decisions.log(
        hub, conn, customer.id, channel, Choice((picked,), None, choice.suppressed), None, context
    )
    local = hub.now().astimezone(ZoneInfo(hub.settings.offers_timezone))
    notification_id = new_id("ntf")
    due = to_micros(due_at(then, local))
    changes.announce(
        hub,
        conn,
        ChangeType.NOTIFICATION_CREATED,
        customer.id,
        decisions.policy(hub).personalisation,
        {
            "notification": notification_id,
            "notify": then.notify.value,
            "store": event.store if then.notify is Notify.DESK else None,
            "offer": picked.offer.id,
            "due_at": rfc3339_micros(due),
        },
    )
    store.insert_notification(
        conn,
        {
            "id": notification_id,
            "customer_id": customer.id,
            "trigger_id": trigger.id,
            "notify": then.notify.value,
            "store": event.store if then.notify is Notify.DESK else None,
            "offer_id": picked.offer.id,
            "decision_id": logged["id"],
            "created_at": hub.now_micros(),
            "due_at": due,
            "status": "pending",
            "sealed": hub.vault.seal_json(
                customer.id, SEALED, {"title": picked.offer.title, "reasons": reasons}
            ),
        },
    )
    return True


def _fits(chosen: Chosen, trigger: Trigger, then: Then, fact: Fact) -> bool:
    """May this offer be the one the action brings? Only for something the customer told us
    (declared_only); only about what she looked at (a counting trigger); else the top one."""
    facts = [f for r in chosen.reasons for f in r.facts]
    if then.declared_only:
        return any(f.provenance is Provenance.DECLARED for f in facts)
    if trigger.count is not None:
        return any(f.source == fact.source for f in facts)
    return True


# -- the notifications


def notification_json(hub: Hub, row: Any, key: Any = None) -> dict[str, Any]:
    opened = hub.vault.unseal_json(row.customer_id, SEALED, bytes(row.sealed), key)
    return {
        "id": row.id,
        "customer": row.customer_id,
        "trigger": row.trigger_id,
        "notify": row.notify,
        "store": row.store,
        "offer": row.offer_id,
        "title": opened["title"],
        "reasons": opened["reasons"],
        "created_at": rfc3339_micros(row.created_at),
        "due_at": rfc3339_micros(row.due_at),
        "status": row.status,
    }


def pending(
    hub: Hub, notify: Notify, store_id: str | None, limit: int = 100
) -> list[dict[str, Any]]:
    """Notifications due now (for the desk of one store, or a delivery channel)."""
    with hub.db.read() as conn:
        rows = store.pending(conn, notify.value, hub.now_micros(), store_id, limit)
    return [notification_json(hub, r) for r in rows]


def done(hub: Hub, conn: Connection, notification_id: str) -> dict[str, Any]:
    row = store.get(conn, notification_id)
    if row is None:
        raise NotFound(f"no notification {notification_id!r}")
    store.mark_done(conn, notification_id)
    return notification_json(hub, store.get(conn, notification_id))


def of_customer(hub: Hub, customer_id: str) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        rows = store.of_customer(conn, customer_id)
    key = hub.vault.key(customer_id) if rows else None
    return [notification_json(hub, r, key) for r in rows]


def store_of(conn: Connection, notification_id: str) -> str | None:
    """The store a desk notification is for (None if there is no such notification)."""
    row = store.get(conn, notification_id)
    return row.store if row is not None else None
