"""Offers in process, on the demo retailer (2,700 products, a year of purchases, answers,
consents, 26 offers, complements learnt from the baskets):

- ``decision``: POST /v1/customers/{id}/decisions without HTTP — consent state, answers
  decrypted, recent purchases decrypted, the engine over every offer, the decision sealed and
  logged in a write transaction with the customer locked;
- ``store_visit_with_triggers``: one store-visit event taken in, the triggers run inside its
  transaction (the customer's recent events decrypted, the engine asked for the desk and the
  push) — the time from an event to its notification being committed;
- ``learn``: learning complements from every consenting customer's baskets.

    python bench/bench_decisions.py [DATABASE_URL] [ENGINE_LABEL] [CUSTOMERS]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _common import summary_ms, write
from consentry.demo.retailer import build_demo
from consentry.schemas.offers import DecisionIn
from consentry.services import complements, decisions, events
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import customers, notifications
from consentry.store.tables import events as event_table

CALLS = int(__import__("os").environ.get("CALLS", 3000))


def main(url: str | None, label: str, count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub.open(Settings(data_dir=Path(tmp), database_url=url))
        t0 = time.perf_counter()
        build_demo(hub, count, lambda n: None)
        built = time.perf_counter() - t0
        with hub.db.read() as conn:
            ids = list(conn.execute(customers.select().with_only_columns(customers.c.id)).scalars())
            purchases = conn.execute(event_table.select().with_only_columns(event_table.c.id)).all()
        t0 = time.perf_counter()
        learnt = complements.learn(hub)
        learn_s = time.perf_counter() - t0

        body = DecisionIn.model_validate({"channel": "in_app", "limit": 3})
        for cid in ids[:200]:  # warm the caches
            decisions.decide_for(hub, None, cid, body)
        samples, chosen = [], 0
        for i in range(CALLS):
            cid = ids[i % len(ids)]
            t0 = time.perf_counter()
            answer = decisions.decide_for(hub, None, cid, body)
            samples.append(time.perf_counter() - t0)
            chosen += len(answer["offers"])

        with hub.db.read() as conn:
            before = len(conn.execute(notifications.select()).all())  # the demo's own story
        visits, notified = [], 0
        now = hub.now().isoformat()
        for i in range(min(CALLS, len(ids))):
            visit = {
                "customer": ids[i],
                "type": "store_visit",
                "time": now,
                "store": "store-01-london",
            }
            t0 = time.perf_counter()
            answer = events.ingest(hub, [visit])
            visits.append(time.perf_counter() - t0)
            notified += answer["notifications"]
        with hub.db.read() as conn:
            stored = conn.execute(notifications.select()).all()
        hub.close()
    assert notified == len(stored) - before > 0, (notified, len(stored), before)
    write(
        f"decisions_{label}",
        {
            "engine": label,
            "customers": count,
            "purchases": len(purchases),
            "demo_built_s": round(built, 1),
            "decision": {"count": CALLS, "offers_chosen": chosen, **summary_ms(samples)},
            "store_visit_with_triggers": {
                "count": len(visits),
                "notifications": notified,
                **summary_ms(visits),
            },
            "learn": {"seconds": round(learn_s, 2), **learnt},
        },
    )


if __name__ == "__main__":
    main(
        sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None,
        sys.argv[2] if len(sys.argv) > 2 else "sqlite",
        int(sys.argv[3]) if len(sys.argv) > 3 else 3000,
    )
