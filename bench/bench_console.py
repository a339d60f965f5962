"""The console's insight pages on a large retailer: 1,000,000 customers, 10,000,000 evidence
records, 3,000,000 consent states and 3,000,000 answers, with a year of rollups of that size.

The raw tables are filled with set-based SQL (INSERT … SELECT generate_series: realistic
sizes and distributions, not realistic histories, which would take hours to write through
the API); the rollups are filled as the counters would leave them after a year. Then:

- ``snapshot``: the background snapshot of consent rates, answer distribution and
  relationship stages over the full tables (seconds; once an hour in the server);
- ``pages``: a real ``consentry serve`` (two workers) on the database; a signed-in admin asks
  each insight page (and its CSV) for the default 30 days and for a whole year, 20 times
  each, through HTTP: p50/p99 of the whole answer (query, charts, HTML).

    python bench/bench_console.py postgresql+psycopg://postgres@127.0.0.1:5432/bench_console
        (a scratch database: emptied and filled; several GB)
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, text

from _common import Server, summary_ms, write
from consentry.schemas.customers import CustomerCreate
from consentry.services import customers, desk, insight_counts, insights, profiling
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import metadata

CUSTOMERS = 1_000_000
RECORDS = 10_000_000
PURPOSES = [f"purpose_{i}" for i in range(11)]
CHANNELS = ["email", "sms", "post"]
SOURCES = ["web", "app", "store", "call_centre", "import", "api"]
QUESTIONS = [f"q{i:02d}" for i in range(30)]
OFFERS = [f"offer-{i:02d}" for i in range(30)]
TODAY = date(2026, 11, 23)
PASSWORD = "a benchmark password"
ADMIN_KEY = "bench-admin-key-" + "x" * 32
REPEAT = 20


def _sql(engine: Engine, statement: str, **params: object) -> float:
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(text(statement), params)
    return time.perf_counter() - started


def _fill(url: str) -> dict[str, float]:
    engine = create_engine(url)
    # The vault's fingerprint stays: the master key file in the data directory wrote it.
    tables = [t.name for t in metadata.sorted_tables if t.name != "vault_meta"]
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    took = {}
    now = int(time.time() * 1_000_000)
    for p in PURPOSES:
        _sql(
            engine,
            "INSERT INTO purposes VALUES (:p, 1, :title, 'A purpose.', 'h', 'consent', "
            "CAST(:ch AS json), false, NULL, 1, :now, :now, false)",
            p=p,
            title=p.replace("_", " "),
            ch='["email", "sms", "post"]',
            now=now,
        )
        _sql(
            engine,
            "INSERT INTO notices VALUES (:p, 1, :title, 'A purpose.', 'h', false, :now)",
            p=p,
            title=p.replace("_", " "),
            now=now,
        )
    took["customers"] = _sql(
        engine,
        "INSERT INTO customers (id, status, restricted, created_at) "
        "SELECT 'cus_' || g, 'active', false, :now - (g % 1000) * 86400000000 "
        "FROM generate_series(1, :n) g",
        now=now,
        n=CUSTOMERS,
    )
    took["evidence_records"] = _sql(
        engine,
        "INSERT INTO evidence_records (id, customer_id, purpose, purpose_version, channel, "
        "action, captured_at, leaf, leaf_hash) "
        "SELECT 'rec_' || g, 'cus_' || (1 + g % :customers), 'purpose_' || (g % 11), 1, "
        "(ARRAY['email','sms','post'])[1 + g % 3], "
        "CASE WHEN g % 7 = 0 THEN 'withdraw' ELSE 'grant' END, :now - (g % 365) * 86400000000, "
        "convert_to('{\"leaf\":' || g || '}', 'UTF8'), sha256(int8send(g)) "
        "FROM generate_series(1, :n) g",
        now=now,
        n=RECORDS,
        customers=CUSTOMERS,
    )
    took["log_leaves"] = _sql(
        engine,
        "INSERT INTO log_leaves "
        "SELECT row_number() OVER (ORDER BY pk) - 1, pk, leaf_hash FROM evidence_records",
    )
    took["consent_state"] = _sql(
        engine,
        "INSERT INTO consent_state SELECT 'cus_' || c, 'purpose_' || p, "
        "(ARRAY['email','sms','post'])[1 + (c + p) % 3], "
        "CASE WHEN (c + p) % 3 = 0 THEN 'withdraw' ELSE 'grant' END, 1, 'rec_' || c, :now, c "
        "FROM generate_series(1, :n) c, generate_series(0, 2) p",
        now=now,
        n=CUSTOMERS,
    )
    took["answers"] = _sql(
        engine,
        "INSERT INTO answers (customer_id, question_id, status, sealed, channel, actor_type, "
        "answered_at, counted) SELECT 'cus_' || c, 'q' || lpad(((c + q * 7) % 30)::text, 2, '0'), "
        "CASE WHEN (c + q) % 5 = 0 THEN 'declined' ELSE 'answered' END, "
        "sha256(int8send(c)), 'web', 'customer', :now, true "
        "FROM generate_series(1, :n) c, generate_series(0, 2) q",
        now=now,
        n=CUSTOMERS,
    )
    # A year of rollups, as the counters leave them.
    first = TODAY - timedelta(days=364)
    took["rollups"] = sum(
        _sql(engine, statement, first=first, today=TODAY)
        for statement in (
            "INSERT INTO insight_consent_flows SELECT 'day', d::date, p, ch, s, a, "
            "(random() * 400)::int FROM generate_series(:first, :today, interval '1 day') d, "
            "unnest(ARRAY[" + ",".join(f"'{p}'" for p in PURPOSES) + "]) p, "
            "unnest(ARRAY['email','sms','post']) ch, "
            "unnest(ARRAY['web','app','store','call_centre','import','api']) s, "
            "unnest(ARRAY['grant','withdraw']) a",
            "INSERT INTO insight_consent_flows SELECT 'week', d::date, p, ch, s, a, "
            "(random() * 2000)::int FROM generate_series(:first, :today, interval '7 day') d, "
            "unnest(ARRAY[" + ",".join(f"'{p}'" for p in PURPOSES) + "]) p, "
            "unnest(ARRAY['email','sms','post']) ch, "
            "unnest(ARRAY['web','app','store','call_centre','import','api']) s, "
            "unnest(ARRAY['grant','withdraw']) a",
            "INSERT INTO insight_consent_levels SELECT d::date, p, ch, "
            "300000 + (random() * 100000)::int, 1000000 "
            "FROM generate_series(:first, :today, interval '1 day') d, "
            "unnest(ARRAY[" + ",".join(f"'{p}'" for p in PURPOSES) + "]) p, "
            "unnest(ARRAY['email','sms','post']) ch",
            "INSERT INTO insight_daily SELECT d::date, m, q, (random() * 3000)::int, "
            "(random() * 30000)::int FROM generate_series(:first, :today, interval '1 day') d, "
            "unnest(ARRAY['asked','answered','declined','points']) m, "
            "unnest(ARRAY[" + ",".join(f"'{q}'" for q in QUESTIONS) + "]) q",
            "INSERT INTO insight_daily SELECT d::date, m, o, (random() * 9000)::int, "
            "(random() * 90000)::int FROM generate_series(:first, :today, interval '1 day') d, "
            "unnest(ARRAY['chosen','dismissed','suppressed','considered','decisions','empty']) m,"
            " unnest(ARRAY[" + ",".join(f"'{o}'" for o in OFFERS) + "]) o",
            "INSERT INTO insight_stage_levels SELECT d::date, s, 100000 * s "
            "FROM generate_series(:first, :today, interval '1 day') d, generate_series(1, 3) s",
        )
    )
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return {k: round(v, 1) for k, v in took.items()}


def _questions(hub: Hub) -> None:
    """Thirty choice questions in the bank, so the page has something to chart."""
    from consentry.schemas.profiling import QuestionIn
    from consentry.services import questions

    with hub.db.write() as conn:
        for qid in QUESTIONS:
            body = QuestionIn.model_validate(
                {
                    "id": qid,
                    "text": f"Question {qid}?",
                    "kind": "single_choice",
                    "options": [{"value": v, "label": v} for v in ("a", "b", "c", "d")],
                    "topic": "bench",
                    "stage": 1,
                    "points": 5,
                    "channels": ["web"],
                }
            )
            questions.create(hub, conn, body)
        conn.execute(
            text(
                "INSERT INTO insight_answer_tallies SELECT q, v, 20000 + (random() * 50000)::int "
                "FROM unnest(CAST(:qs AS text[])) q, unnest(ARRAY['a','b','c','d']) v"
            ),
            {"qs": QUESTIONS},
        )


def main() -> None:
    if len(sys.argv) < 2 or not sys.argv[1].startswith("postgresql"):
        raise SystemExit("usage: bench_console.py postgresql+psycopg://…/scratch_database")
    url = sys.argv[1]
    # Kept between runs with the database, so a second run need not fill it again.
    data_dir = Path(tempfile.gettempdir()) / "consentry-bench-console"
    settings = Settings(data_dir=data_dir, database_url=url, admin_key=ADMIN_KEY)
    hub = Hub.open(settings)  # migrations
    with hub.db.write() as conn:
        filled_before = conn.execute(text("SELECT count(*) FROM evidence_records")).scalar_one()
        # One real customer, so the key store holds a key (the filled customers have none:
        # the hub refuses a database with customers and an empty key store).
        customers.create(hub, conn, CustomerCreate())
    hub.close()
    filled = _fill(url) if filled_before < RECORDS or "--refill" in sys.argv else {}
    print("filled in", filled, flush=True)
    hub = Hub.open(settings)
    with hub.db.write() as conn:  # what the steps below add, from an earlier run
        conn.execute(text("TRUNCATE staff, questions, insight_answer_tallies, web_sessions"))
    _questions(hub)
    desk.add_staff(hub, "bench", "Bench", PASSWORD, None, None, "admin")
    started = time.perf_counter()
    insights.snapshot_levels(hub)
    levels_s = time.perf_counter() - started
    started = time.perf_counter()
    insight_counts.snapshot(hub, profiling.rules(hub))
    profile_s = time.perf_counter() - started
    hub.close()

    pages: dict[str, dict[str, float]] = {}
    year = f"from={TODAY - timedelta(days=364)}&to={TODAY}"
    consent = "/console/insights?purpose=purpose_3&channel=email"
    asks = {
        "consent, 30 days": consent,
        "consent, a year by week": f"{consent}&period=week&{year}",
        "consent, a year by day": f"{consent}&{year}",
        "told, 30 days": "/console/insights/told?question=q07",
        "told, a year": f"/console/insights/told?question=q07&{year}",
        "offers, 30 days": "/console/insights/offers",
        "offers, a year": f"/console/insights/offers?{year}",
        "flows CSV, a year": f"/console/insights/consent-flows.csv?{year}&purpose=purpose_3",
        "purpose with counts per version": "/console/purposes/purpose_3",
        "overview": "/console/",
    }
    with Server(url, str(data_dir), ADMIN_KEY) as server, httpx.Client(base_url=server.base) as web:
        r = web.post("/console/login", data={"username": "bench", "password": PASSWORD})
        assert r.status_code in (200, 303), r.text
        time.sleep(3)  # the server's own start-up snapshot
        for name, path in asks.items():
            web.get(path)  # warm
            samples = []
            for _ in range(REPEAT):
                started = time.perf_counter()
                answer = web.get(path)
                samples.append(time.perf_counter() - started)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
            pages[name] = {**summary_ms(samples), "bytes": len(answer.content)}
            print(name, pages[name], flush=True)
    write(
        "console",
        {
            "database": "postgresql",
            "customers": CUSTOMERS,
            "evidence_records": RECORDS,
            "consent_states": 3 * CUSTOMERS,
            "answers": 3 * CUSTOMERS,
            "fill_seconds": filled,
            "snapshot_seconds": {
                "consent_rates": round(levels_s, 2),
                "answers_and_stages": round(profile_s, 2),
            },
            "pages_over_http": pages,
            "repeat": REPEAT,
        },
    )


if __name__ == "__main__":
    main()
