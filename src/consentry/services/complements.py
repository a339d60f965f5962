"""Learning complements: co-purchase rules over the baskets of the customers who granted
profiling (and only theirs), without their excluded purchases and without anything in a
sensitive category. A basket is one customer's purchases on one day."""

from __future__ import annotations

from typing import Any

from consentry.domain.clock import from_micros
from consentry.domain.complements import learn as learn_rules
from consentry.domain.consent import decide
from consentry.domain.events import DETAILS
from consentry.services import catalogue as catalogue_service
from consentry.services.hub import Hub
from consentry.store import catalogue as catalogue_store
from consentry.store import consents as consent_store
from consentry.store import events as event_store
from consentry.store import purposes as purpose_store

CHUNK = 2_000


def learn(hub: Hub) -> dict[str, Any]:
    """Replace the complement rules with what the baskets say now."""
    now = hub.now_micros()
    purpose_id = hub.settings.offers_profiling_purpose
    with hub.db.read() as conn:
        purpose = purpose_store.get(conn, purpose_id)
        allowed = (
            sorted(
                customer
                for customer, restricted, entry in consent_store.all_channel_entries_of_purpose(
                    conn, purpose_id
                )
                if decide(purpose, entry, now, restricted=restricted).allowed
            )
            if purpose is not None
            else []
        )
        catalogue = catalogue_service.current(hub, conn).catalogue
    baskets: dict[tuple[str, str], set[str]] = {}
    for start in range(0, len(allowed), CHUNK):
        chunk = allowed[start : start + CHUNK]
        with hub.db.read() as conn:
            rows = event_store.purchases_of(conn, chunk)
        keys = hub.vault.keys(sorted({r.customer_id for r in rows}))
        for row in rows:
            key = keys.get(row.customer_id)
            if key is None:
                continue
            details = hub.vault.unseal_json(row.customer_id, DETAILS, bytes(row.sealed), key)
            category = catalogue.category_for(details.get("sku"), details.get("category"))
            if not category or catalogue.topic_of(category) is not None:
                continue  # nothing sensitive is ever learnt from
            day = from_micros(row.occurred_at).date().isoformat()
            baskets.setdefault((row.customer_id, day), set()).add(category)
    rules = learn_rules(
        ((customer, frozenset(items)) for (customer, _), items in baskets.items()),
        min_customers=hub.settings.offers_min_customers,
    )
    with hub.db.write() as conn:
        catalogue_store.replace_complements(
            conn,
            [
                {
                    "antecedent": r.antecedent,
                    "consequent": r.consequent,
                    "customers": r.customers,
                    "confidence": r.confidence,
                    "lift": r.lift,
                    "learnt_at": now,
                }
                for r in rules
            ],
        )
    return {"customers": len(allowed), "baskets": len(baskets), "rules": len(rules)}
