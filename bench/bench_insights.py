"""Insights, in process: counting consent changes from the outbox into day, week and month
cells, and reading the figures a console page asks for.

- ``count``: 100,000 consent changes of 20,000 customers over a year (six purposes, four
  sources, backdated captures) already in the outbox: changes counted per second;
- ``read``: a year of monthly flows, 52 weeks of weekly flows, 31 days of daily flows and a
  year of consent rates (365 snapshots of six purposes), each asked 50 times: p50/p99.

    python bench/bench_insights.py                        # SQLite
    python bench/bench_insights.py postgresql+psycopg://postgres@127.0.0.1:5432/bench_ins
        (a scratch database: it is filled, never emptied)
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from _common import summary_ms, write
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.schemas.consents import Actor, ConsentChange
from consentry.schemas.customers import CustomerCreate
from consentry.schemas.purposes import PurposeCreate
from consentry.services import consents, customers, insights, purposes
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import insight_consent_levels

ADMIN = Caller("bench", "bench", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
CUSTOMERS = 20_000
CHANGES = 100_000
PURPOSES = ["newsletter", "loyalty", "personalisation", "profiling", "partners", "research"]
SOURCES = ["web", "app", "store", "call_centre"]
START = datetime(2025, 11, 22, 0, 0, tzinfo=UTC)  # captures from here to yesterday


def _fill(hub: Hub) -> None:
    rng = random.Random(7)
    with hub.db.write() as conn:
        for purpose in PURPOSES:
            purposes.create(
                hub,
                conn,
                PurposeCreate(
                    id=purpose,
                    title=purpose,
                    description="A purpose of the benchmark.",
                    legal_basis="consent",
                    channels=[],
                ),
            )
    ids: list[str] = []
    for start in range(0, CUSTOMERS, 2_000):
        with hub.db.write() as conn:
            ids += [
                customers.create(hub, conn, CustomerCreate())["id"]
                for _ in range(start, min(CUSTOMERS, start + 2_000))
            ]
    for start in range(0, CHANGES, 1_000):
        with hub.db.write() as conn:
            for _ in range(start, min(CHANGES, start + 1_000)):
                source = rng.choice(SOURCES)
                staff = source in ("store", "call_centre")
                consents.record_change(
                    hub,
                    conn,
                    ADMIN,
                    rng.choice(ids),
                    ConsentChange(
                        purpose=rng.choice(PURPOSES),
                        action="grant" if rng.random() < 0.7 else "withdraw",
                        notice_version=1,
                        source=source,
                        actor=Actor(type="staff", id="clerk-1")
                        if staff
                        else Actor(type="customer"),
                        captured_at=START + timedelta(seconds=rng.randrange(365 * 86_400)),
                    ),
                )
    hub.outbox.integrate_all()


def _timed(call: object, times: int = 50) -> dict[str, float]:
    samples = []
    for _ in range(times):
        t0 = time.perf_counter()
        call()  # type: ignore[operator]
        samples.append(time.perf_counter() - t0)
    return summary_ms(samples)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp), check_cache_mb=16, **({"database_url": url} if url else {})
        )
        hub = Hub.open(settings)
        t0 = time.perf_counter()
        _fill(hub)
        fill_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        counted = insights.count_new(hub)
        count_s = time.perf_counter() - t0
        # A year of daily snapshots, as the server would have taken them.
        insights.snapshot_levels(hub)
        with hub.db.write() as conn:
            today = conn.execute(insight_consent_levels.select()).all()
            conn.execute(
                insight_consent_levels.insert(),
                [
                    {**row._mapping, "day": row.day - timedelta(days=n)}
                    for n in range(1, 365)
                    for row in today
                ],
            )
        year = (date(2025, 11, 22), date(2026, 11, 22))
        reads = {
            "months_of_a_year": _timed(lambda: insights.flows(hub, *year, period="month")),
            "weeks_of_a_year": _timed(lambda: insights.flows(hub, *year, period="week")),
            "days_of_a_month": _timed(
                lambda: insights.flows(hub, date(2026, 10, 1), date(2026, 10, 31))
            ),
            "rates_of_a_year": _timed(lambda: insights.rates(hub, *year)),
        }
        cells = len(insights.flows(hub, *year, period="day"))
        hub.close()
    write(
        f"insights_{'postgres' if url else 'sqlite'}",
        {
            "engine": "postgres" if url else "sqlite",
            "fill_seconds": round(fill_s, 1),
            "count": {
                "changes": counted,
                "seconds": round(count_s, 2),
                "per_second": round(counted / count_s),
                "daily_cells": cells,
            },
            "read": reads,
        },
    )


if __name__ == "__main__":
    main()
