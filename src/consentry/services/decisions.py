"""Choosing offers for a customer: gather what they allowed and what we know (each fact with
its provenance), let the pure engine choose, log the decision sealed under their key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from consentry.domain.access import Caller
from consentry.domain.catalogue import Catalogue
from consentry.domain.clock import rfc3339_micros
from consentry.domain.consent import ALL_CHANNELS, MICROS_PER_DAY, decide, in_force
from consentry.domain.data_use import DataUsePolicy
from consentry.domain.decisions import (
    Bought,
    Choice,
    Chosen,
    Declared,
    Known,
    Rules,
    Signal,
    Situation,
    choose,
)
from consentry.domain.errors import NotFound
from consentry.domain.events import DETAILS, EventType
from consentry.domain.ids import new_id
from consentry.domain.questions import ANSWER, DEFAULT_LANGUAGE, Question, QuestionKind, tokens
from consentry.schemas.offers import DecisionIn, OfferChannel
from consentry.services import catalogue as catalogue_service
from consentry.services import customers, insight_counts, purposes
from consentry.services.hub import Hub
from consentry.services.question_form import shown
from consentry.services.questions import bank
from consentry.store import consents as consent_store
from consentry.store import decisions as store
from consentry.store import events as event_store
from consentry.store import profiling as profiling_store
from consentry.store.customers import CustomerRow

# The vault's field name for a decision's reasons and context.
SEALED = "decision"


def policy(hub: Hub) -> DataUsePolicy:
    return DataUsePolicy(
        hub.settings.offers_personalisation_purpose, hub.settings.offers_profiling_purpose
    )


def rules_for(hub: Hub, channel: str) -> Rules:
    s = hub.settings
    return Rules(
        substitute_cooldown_days=s.offers_substitute_cooldown_days,
        complement_days=s.offers_complement_days,
        channel_cap=s.offers_channel_caps.get(channel),
        quiet_hours=s.offers_quiet_hours if channel in s.offers_quiet_channels else None,
    )


def granted(
    hub: Hub, conn: Connection, customer: CustomerRow, channel: str, catalogue: Catalogue
) -> frozenset[str]:
    """The purposes of the data-use policy (and of the sensitive topics) the customer allows
    now, on this channel where the purpose names channels."""
    wanted = {hub.settings.offers_personalisation_purpose, hub.settings.offers_profiling_purpose}
    wanted |= {t.purpose for t in catalogue.topics.values()}
    state = consent_store.entries(conn, customer.id)
    now = hub.now_micros()
    allowed = set()
    # One read for all of them: a decision reads four or five purposes.
    for purpose in purposes.catalogue(hub, conn):
        purpose_id = purpose.id
        if purpose_id not in wanted:
            continue
        own = state.get((purpose_id, channel)) if channel in purpose.channels else None
        entry = in_force(own, state.get((purpose_id, ALL_CHANNELS)))
        if decide(purpose, entry, now, restricted=customer.restricted).allowed:
            allowed.add(purpose_id)
    return frozenset(allowed)


def declared_of(
    hub: Hub, conn: Connection, customer_id: str, catalogue: Catalogue
) -> list[Declared]:
    """The customer's answers in force, each marked with the sensitive topic it declares (an
    answer to a sensitive question with no topic is marked too: it is never used)."""
    rows = [
        r
        for r in profiling_store.answers_of(conn, customer_id)
        if r.status == "answered" and (r.expires_at is None or r.expires_at > hub.now_micros())
    ]
    if not rows:
        return []
    questions = bank(hub, conn)[1]
    topic_of_question = {t.question: t.id for t in catalogue.topics.values()}
    key = hub.vault.key(customer_id)
    found = []
    for row in rows:
        question = questions.get(row.question_id)
        if question is None:
            continue
        value = hub.vault.unseal_json(customer_id, ANSWER, bytes(row.sealed), key)["value"]
        topic = topic_of_question.get(question.id)
        if topic is None and question.sensitive:
            topic = f"question:{question.id}"
        found.append(
            Declared(
                question=question.id,
                question_text=question.text_in(DEFAULT_LANGUAGE),
                values=tokens(value),
                shown=shown(question, value, DEFAULT_LANGUAGE, lambda s: s),
                when=_when(question, value),
                topic=topic,
            )
        )
    return found


def _when(question: Question, value: Any) -> date | None:
    try:
        if question.kind is QuestionKind.DATE:
            return date.fromisoformat(value)
        if question.kind is QuestionKind.MONTH:
            return date.fromisoformat(f"{value}-01")
    except (TypeError, ValueError):
        return None
    return None


def bought_of(
    hub: Hub, conn: Connection, customer_id: str, since: int, catalogue: Catalogue
) -> list[Bought]:
    """Purchases since then, except those the customer excluded (never read at all)."""
    rows = [
        r
        for r in event_store.of_customer_since(conn, customer_id, since)
        if r.type == EventType.PURCHASE.value and not r.excluded
    ]
    if not rows:
        return []
    key = hub.vault.key(customer_id)
    found = []
    for row in rows:
        details = hub.vault.unseal_json(customer_id, DETAILS, bytes(row.sealed), key)
        sku, category = details.get("sku"), details.get("category")
        product = catalogue.products.get(sku or "")
        found.append(
            Bought(
                source=f"event:{row.id}",
                sku=sku,
                category=catalogue.category_for(sku, category),
                name=product.name if product else (sku or category or "something"),
                at=row.occurred_at,
            )
        )
    return found


def choose_in(
    hub: Hub,
    conn: Connection,
    customer: CustomerRow,
    channel: str,
    *,
    store_id: str | None = None,
    basket: Sequence[str] = (),
    limit: int = 3,
    signals: Sequence[Signal] = (),
    allowed: frozenset[str] | None = None,
) -> Choice:
    """The engine's choice for a customer (locked by the caller) on a channel, now;
    ``allowed``: the purposes already read by the caller (``granted``), if it has them."""
    now = hub.now_micros()
    local = hub.now().astimezone(ZoneInfo(hub.settings.offers_timezone))
    rules = rules_for(hub, channel)
    loaded = catalogue_service.current(hub, conn)
    cat = loaded.catalogue
    if customer.restricted:
        return Choice((), "processing restricted: the customer asked us to hold off", {})
    if allowed is None:
        allowed = granted(hub, conn, customer, channel, cat)
    personal = policy(hub).personal_allowed(allowed)
    window = max(rules.substitute_cooldown_days, rules.complement_days)
    bought = bought_of(hub, conn, customer.id, now - window * MICROS_PER_DAY, cat)
    bought += [
        Bought(f"basket:{sku}", sku, cat.products[sku].category, cat.products[sku].name, now)
        for sku in basket
        if sku in cat.products
    ]
    sends = (
        store.sends_since(conn, customer.id, channel, now - rules.channel_cap[1] * MICROS_PER_DAY)
        if rules.channel_cap
        else 0
    )
    known = Known(
        granted=allowed,
        declared=declared_of(hub, conn, customer.id, cat) if personal else [],
        bought=bought,
        dismissed=store.dismissed(conn, customer.id),
        shown=store.shown_counts(conn, customer.id),
        sends_in_cap_window=sends,
        signals=list(signals),
    )
    return choose(
        cat,
        loaded.complements,
        policy(hub),
        known,
        Situation(now, channel, local, store_id),
        rules,
        limit,
    )


def log(
    hub: Hub,
    conn: Connection,
    customer_id: str,
    channel: str,
    choice: Choice,
    app_id: str | None,
    context: dict[str, Any],
) -> dict[str, Any]:
    """Record a decision (sealed under the customer's key); the decision as the API shows it."""
    now = hub.now_micros()
    offers = [chosen_json(c) for c in choice.offers]
    decision_id = new_id("dec")
    sealed = hub.vault.seal_json(
        customer_id,
        SEALED,
        {
            "offers": offers,
            "empty_because": choice.empty_because,
            "suppressed": choice.suppressed,
            "context": context,
        },
    )
    insight_counts.record(hub, conn, customer_id, decision_counts(channel, choice))
    store.insert_decision(
        conn,
        {
            "id": decision_id,
            "customer_id": customer_id,
            "channel": channel,
            "decided_at": now,
            "offer_ids": [c.offer.id for c in choice.offers],
            "chosen": len(choice.offers),
            "app_id": app_id,
            "sealed": sealed,
        },
    )
    return {
        "id": decision_id,
        "customer": customer_id,
        "channel": channel,
        "decided_at": rfc3339_micros(now),
        "offers": offers,
        "empty_because": choice.empty_because,
        "suppressed": choice.suppressed,
    }


def decision_counts(channel: str, choice: Choice) -> list[tuple[str, str, int]]:
    """What a decision adds to the offer insights: (metric, key, amount)."""
    counts = [("decisions", channel, 1), ("considered", channel, choice.considered)]
    counts += [("chosen", c.offer.id, 1) for c in choice.offers]
    counts += [("suppressed", reason, n) for reason, n in choice.suppressed.items()]
    if choice.empty_kind is not None:
        counts.append(("empty", choice.empty_kind, 1))
    return counts


def deciding(
    hub: Hub, app_id: str | None, customer_id: str, body: DecisionIn
) -> Callable[[Connection], dict[str, Any]]:
    """The work of a decision in its write transaction: choose (``app_id``: the app that
    asked; None for the preference centre) and log."""

    def decide(conn: Connection) -> dict[str, Any]:
        # Locked: two decisions at once for one customer cannot both slip under a cap.
        customer = customers.require_active(conn, customer_id, for_update=True)
        choice = choose_in(
            hub,
            conn,
            customer,
            body.channel.value,
            store_id=body.context.store,
            basket=body.context.basket,
            limit=body.limit,
        )
        return log(
            hub, conn, customer_id, body.channel.value, choice, app_id, body.context.model_dump()
        )

    return decide


def decide_for(hub: Hub, app_id: str | None, customer_id: str, body: DecisionIn) -> dict[str, Any]:
    """A decision, chosen and logged (see ``deciding``), on the calling thread."""
    return hub.db.transact(deciding(hub, app_id, customer_id, body))


async def decide_soon(
    hub: Hub, app_id: str | None, customer_id: str, body: DecisionIn
) -> dict[str, Any]:
    """A decision on the writers (see ``deciding``): on SQLite the group committer makes
    concurrent decisions durable with one fsync, instead of one each."""
    return await asyncio.wrap_future(hub.db.submit_write(deciding(hub, app_id, customer_id, body)))


# What an app sees in place of a reason resting on purposes it is not bound to.
HIDDEN_REASON = "Chosen from what the customer allowed for purposes this app is not bound to."


def reasons_for(caller: Caller, reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The reasons an app may read: in full where it is bound to every purpose that allowed
    the reason's facts (or the reason has none); otherwise without its facts or its text,
    which name them ("Goes with the running shoes you bought")."""
    shown = []
    for reason in reasons:
        allowed_by = reason.get("allowed_by") or []
        if not reason.get("facts") or (allowed_by and all(map(caller.may_use, allowed_by))):
            shown.append(reason)
        else:
            shown.append({**reason, "text": HIDDEN_REASON, "facts": []})
    return shown


def decision_for(caller: Caller, decision: dict[str, Any]) -> dict[str, Any]:
    """A decision as ``caller`` may read it (see reasons_for)."""
    return {
        **decision,
        "offers": [
            {**offer, "reasons": reasons_for(caller, offer["reasons"])}
            for offer in decision["offers"]
        ],
    }


def chosen_json(chosen: Chosen) -> dict[str, Any]:
    offer = chosen.offer
    return {
        "id": offer.id,
        "title": offer.title,
        "text": offer.text,
        "sku": offer.sku,
        "category": offer.category,
        "tags": list(offer.tags),
        "score": chosen.score,
        "reasons": [
            {
                "text": r.text,
                "weight": r.weight,
                "facts": [
                    {"provenance": f.provenance.value, "text": f.text, "source": f.source}
                    for f in r.facts
                ],
                "allowed_by": list(r.allowed_by),
            }
            for r in chosen.reasons
        ],
    }


def decisions_for(hub: Hub, customer_id: str) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        customers.require_active(conn, customer_id)
    return decisions_of(hub, customer_id)


def decisions_of(hub: Hub, customer_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The customer's decisions, newest first, with their reasons (export, centre)."""
    with hub.db.read() as conn:
        rows = store.of_customer(conn, customer_id, limit)
    if not rows:
        return []
    key = hub.vault.key(customer_id)
    out = []
    for row in rows:
        opened = hub.vault.unseal_json(customer_id, SEALED, bytes(row.sealed), key)
        out.append(
            {
                "id": row.id,
                "channel": row.channel,
                "decided_at": rfc3339_micros(row.decided_at),
                "app_id": row.app_id,
                **opened,
            }
        )
    return out


def dismissals_of(hub: Hub, customer_id: str) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        return [
            {"offer": r.offer_id, "at": rfc3339_micros(r.at)}
            for r in store.dismissals_of(conn, customer_id)
        ]


def set_dismissed(
    hub: Hub, conn: Connection, customer_id: str, offer_id: str, dismissed: bool
) -> dict[str, Any]:
    """ "Not relevant" (the offer is never chosen for this customer again), or taken back."""
    customers.require_active(conn, customer_id, for_update=True)
    if dismissed:
        if offer_id not in {o.id for o in catalogue_service.current(hub, conn).catalogue.offers}:
            raise NotFound(f"no offer {offer_id!r}")
        store.dismiss(conn, customer_id, offer_id, hub.now_micros())
        insight_counts.record(hub, conn, customer_id, [("dismissed", offer_id, 1)])
    else:
        store.undismiss(conn, customer_id, offer_id)
    return {"customer": customer_id, "offer": offer_id, "dismissed": dismissed}


def centre_offers(hub: Hub, customer_id: str) -> dict[str, Any]:
    """The preference centre's "Offers for you": chosen now for the web (and logged like any
    decision), the offers the customer dismissed, and the titles of the purposes named."""
    decision = decide_for(hub, None, customer_id, DecisionIn(channel=OfferChannel.WEB, limit=5))
    with hub.db.read() as conn:
        loaded = catalogue_service.current(hub, conn)
        titles = {p.id: p.title for p in purposes.catalogue(hub, conn)}
    offers = {o.id: o for o in loaded.catalogue.offers}
    dismissed = [
        {**d, "title": offers[d["offer"]].title if d["offer"] in offers else d["offer"]}
        for d in dismissals_of(hub, customer_id)
    ]
    return {"decision": decision, "dismissed": dismissed, "purpose_titles": titles}
