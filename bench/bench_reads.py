"""Every read an app makes all day, over HTTP with wrk at 32 connections, against the database
of make_db.py (1,000,000 customers), beside the bare endpoint (/healthz) and the check in the
same run: req/s, p50, p99 and each read's share of the check's rate.

    python bench/bench_reads.py DATABASE_URL DATA_DIR [ENGINE_LABEL] [WORKERS] [SECONDS]

make_db.py gives every customer an e-mail address and consents; for the other reads this script
first (once) loads the demo retailer's purposes, questions, catalogue and offers (for the
decision engine) and gives the first 2,000 customers a loyalty card, a phone number, a name, a
postcode and three answers with their points (the look-ups by those, answers and points ask
about these 2,000; every other read about any of the 1,000,000). Then it makes
a few seconds of consent changes (for the change feed), and signs 200 customers in to their
preference centres (for its page). Bare-endpoint figures are taken at the start and the end, so
that a slow hour on a shared machine shows as such.
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select, update

from _common import Server, write, wrk
from bench_http import warm_page_cache
from consentry.demo import retailer as demo
from consentry.demo import shop as demo_shop
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.services import customers, purposes, questions
from consentry.services.hub import Hub
from consentry.services.question_file import read_bank
from consentry.settings import Settings
from consentry.store import customers as customer_store
from consentry.store import purposes as purpose_store
from consentry.store.pagination import encode_cursor
from consentry.store.tables import customers as customer_table
from consentry.store.tables import identifiers, outbox
from make_db import BENCH_KEY

HERE = Path(__file__).parent
SAMPLE = 2_000
SESSIONS = 200
FIRST = ["Ada", "Ben", "Cleo", "Dev", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jo"]
LAST = ["Archer", "Baker", "Carter", "Dyer", "Evans", "Fisher", "Glover", "Hunt"]


def card(n: int) -> str:
    return f"70{n:08d}"


def phone(n: int) -> str:
    return f"+44 7700 9{n:05d}"


def person(n: int) -> tuple[str, str]:
    """A name and postcode pair that names customer n alone."""
    name = f"{FIRST[n % 10]} {LAST[(n // 10) % 8]}"
    return name, f"EC{1 + n // 80}A 1BB"


def prepare(url: str, data_dir: Path) -> list[str]:
    """Once: the demo retailer's purposes, questions, catalogue and offers; the sample
    customers' identifiers and three answers each. Every customer's id."""
    ids = (data_dir / "customer-ids.txt").read_text().split()
    hub = Hub.open(Settings(database_url=url, data_dir=data_dir))
    try:
        with hub.db.read() as conn:
            seeded = conn.execute(
                select(func.count()).where(identifiers.c.kind == "loyalty_card")
            ).scalar()
        if seeded:
            return ids
        with hub.db.write() as conn:
            for purpose in demo.PURPOSES:
                if purpose_store.get(conn, purpose.id) is None:
                    purposes.create(hub, conn, purpose)
        questions.load(hub, read_bank(demo.QUESTIONS))
        demo_shop.load_catalogue(hub, random.Random(1))
        bank = sorted(questions.bank_now(hub), key=lambda q: (q.stage, q.position))
        admin = Caller("bench", "bench", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
        rng = random.Random(1)
        keys = hub.vault.keys(ids[:SAMPLE])
        with hub.db.write() as conn:
            for n, cid in enumerate(ids[:SAMPLE]):
                key = keys[cid]
                pairs = customers.normalised_identifiers(
                    hub, {"loyalty_card": card(n), "phone": phone(n)}
                )
                customer_store.add_identifiers(
                    conn, customers.identifier_rows(hub, key, cid, pairs)
                )
                name, postcode = person(n)
                conn.execute(
                    update(customer_table)
                    .where(customer_table.c.id == cid)
                    .values(
                        name_sealed=hub.vault.seal_with(key, cid, customers.NAME, name),
                        postcode_sealed=hub.vault.seal_with(key, cid, customers.POSTCODE, postcode),
                        pair_blind=customers.pair_blind(hub, name, postcode),
                    )
                )
                demo._answers(hub, conn, admin, cid, rng, bank, 1)  # three answers, and points
    finally:
        hub.close()
    return ids


def signed_in(base: str, customer_ids: list[str]) -> list[str]:
    """Session cookies of customers who opened their preference link ("Continue")."""
    cookies = []
    auth = {"Authorization": f"Bearer {BENCH_KEY}"}
    for cid in customer_ids:
        with httpx.Client(base_url=base) as browser:
            link = browser.post(f"/v1/customers/{cid}/preference-link", headers=auth)
            path = httpx.URL(link.json()["url"]).path
            page = browser.get(path)
            found = re.search(r'name="confirm" value="([^"]+)"', page.text)
            assert found, page.text
            browser.post(path, data={"confirm": found.group(1)})
            cookies.append(f"consentry_session={browser.cookies['consentry_session']}")
    return cookies


def _line(method: str, path: str, cookie: str = "", body: Any = None) -> str:
    return "\t".join((method, path, cookie, orjson.dumps(body).decode() if body else ""))


def routes(ids: list[str], cookies: list[str], last_position: int) -> dict[str, list[str]]:
    rng = random.Random(7)
    anyone = [rng.choice(ids) for _ in range(20_000)]
    sample = [rng.randrange(SAMPLE) for _ in range(5_000)]
    everyone = [rng.randrange(len(ids)) for _ in range(20_000)]
    base = "/v1/customers/"
    return {
        "check": [
            _line("GET", f"/v1/check?customer={c}&purpose=newsletter&channel=email") for c in anyone
        ],
        "lookup_email": [
            _line("POST", base + "lookup", body={"email": f"customer{n}@example.com"})
            for n in everyone
        ],
        "lookup_email_with_consents": [
            _line(
                "POST",
                base + "lookup",
                body={"email": f"customer{n}@example.com", "include": ["consents"]},
            )
            for n in everyone
        ],
        "lookup_loyalty_card": [
            _line("POST", base + "lookup", body={"loyalty_card": card(n)}) for n in sample
        ],
        "lookup_phone": [_line("POST", base + "lookup", body={"phone": phone(n)}) for n in sample],
        "lookup_name_postcode": [
            _line(
                "POST",
                base + "lookup",
                body=dict(zip(("name", "postcode"), person(n), strict=True)),
            )
            for n in sample
        ],
        "customer": [_line("GET", base + c) for c in anyone],
        "consents": [_line("GET", f"{base}{c}/consents") for c in anyone],
        "consents_history": [_line("GET", f"{base}{c}/consents/history?limit=20") for c in anyone],
        "answers": [_line("GET", f"{base}{ids[n]}/answers") for n in sample],
        "points": [_line("GET", f"{base}{ids[n]}/points") for n in sample],
        "decisions": [
            _line("POST", f"{base}{c}/decisions", body={"channel": "in_app", "limit": 3})
            for c in anyone
        ],
        "changes_page": [
            _line(
                "GET",
                f"/v1/changes?limit=100&after={encode_cursor(rng.randrange(last_position))}",
            )
            for _ in range(5_000)
        ],
        "export": [_line("GET", f"{base}{c}/export") for c in anyone[:5_000]],
        "centre_page": [_line("GET", "/p/", cookie) for cookie in cookies],
    }


def last_position(url: str, data_dir: Path) -> int:
    hub = Hub.open(Settings(database_url=url, data_dir=data_dir), migrate_schema=False)
    try:
        with hub.db.read() as conn:
            return int(conn.execute(select(func.max(outbox.c.position))).scalar() or 0)
    finally:
        hub.close()


def main(url: str, data_dir: str, label: str, workers: int, seconds: int) -> None:
    data = Path(data_dir)
    ids = prepare(url, data)
    warm_page_cache(url)
    env = {"IDS": str(data / "customer-ids.txt"), "KEY": BENCH_KEY}
    figures: dict[str, Any] = {}
    with (
        Server(url, data_dir, BENCH_KEY, workers=workers) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        wrk(f"{server.base}/healthz", seconds=3)  # warm up
        bare_before = wrk(f"{server.base}/healthz", seconds=seconds)
        # Consent changes for the change feed, and warm caches (the steady state is measured).
        wrk(server.base, seconds=5, script=str(HERE / "write.lua"), env=env)
        wrk(server.base, seconds=30, script=str(HERE / "check.lua"), env=env)
        cookies = signed_in(server.base, ids[:SESSIONS])
        position = last_position(url, data)
        for name, lines in routes(ids, cookies, max(position, 1)).items():
            requests = Path(tmp) / f"{name}.txt"
            requests.write_text("\n".join(lines) + "\n")
            run_env = {**env, "REQS": str(requests)}
            script = str(HERE / "reads.lua")
            wrk(server.base, seconds=2, script=script, env=run_env)  # warm this route's path
            figures[name] = wrk(server.base, seconds=seconds, script=script, env=run_env)
            print(name, figures[name], flush=True)
        bare_after = wrk(f"{server.base}/healthz", seconds=seconds)
    check = figures["check"]["requests_per_s"]
    for result in figures.values():
        result["share_of_check"] = round(result["requests_per_s"] / check, 3)
    write(
        f"reads_{label}_{workers}p",
        {
            "engine": label,
            "server_workers": workers,
            "connections": 32,
            "seconds_per_route": seconds,
            "customers": len(ids),
            "bare_healthz_before": bare_before,
            "bare_healthz_after": bare_after,
            "routes": figures,
        },
    )
    print(table(figures))


def table(figures: dict[str, Any]) -> str:
    lines = [
        "| read | req/s | p50 ms | p99 ms | share of check | non-2xx |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, f in figures.items():
        lines.append(
            f"| {name} | {f['requests_per_s']:,.0f} | {f['p50_ms']} | {f['p99_ms']} "
            f"| {f['share_of_check']:.0%} | {f['non_2xx']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2],
        sys.argv[3] if len(sys.argv) > 3 else "sqlite",
        int(sys.argv[4]) if len(sys.argv) > 4 else 1,
        int(sys.argv[5]) if len(sys.argv) > 5 else 10,
    )
