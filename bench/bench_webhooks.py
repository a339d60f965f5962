"""Webhooks and the change feed, on SQLite (or the PostgreSQL database given) in process, with
a fast receiver in its own process (uvicorn, bench/receiver_app.py):

- ``delivery``: 20,000 changes already in the outbox, one endpoint, the webhook worker started:
  deliveries per second until the receiver has them all;
- ``commit_to_delivery``: changes committed at a steady 200 a second for 10 seconds with the
  server's background sequencer and the worker running: from the change's commit to its first
  arrival at the receiver;
- ``feed``: a reader catching up on 20,000 changes through GET /v1/changes (the FastAPI app in
  process, pages of 10,000): changes per second.

    python bench/bench_webhooks.py                       # SQLite
    python bench/bench_webhooks.py --workers 2           # and one `consentry worker` beside
    python bench/bench_webhooks.py postgresql+psycopg://postgres@127.0.0.1:5432/bench_wh
        (a scratch database: it is filled, never emptied)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

from _common import percentile, write
from consentry.api.app import SequencerLoop, create_app
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.schemas.consents import Actor, ConsentChange
from consentry.schemas.customers import CustomerCreate
from consentry.schemas.purposes import PurposeCreate
from consentry.schemas.webhooks import EndpointIn
from consentry.services import apps, consents, customers, purposes, webhooks
from consentry.services.hub import Hub
from consentry.services.webhook_worker import WebhookWorker
from consentry.settings import Settings

ADMIN = Caller("bench", "bench", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
KEY = "bench-admin-key-" + "x" * 32
CHANGES = 20_000
PORT = 8799


def _changes(hub: Hub, ids: list[str], count: int, offset: int = 0) -> None:
    for start in range(0, count, 500):
        with hub.db.write() as conn:
            for n in range(start, min(count, start + 500)):
                consents.record_change(
                    hub,
                    conn,
                    ADMIN,
                    ids[(n + offset) % len(ids)],
                    ConsentChange(
                        purpose="newsletter",
                        channel="email",
                        action="grant" if (n + offset) % 2 == 0 else "withdraw",
                        notice_version=1,
                        source="web",
                        actor=Actor(type="customer"),
                    ),
                )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url", nargs="?", help="PostgreSQL (a scratch database)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="delivering processes: the in-process worker and N-1 `consentry worker`s",
    )
    args = parser.parse_args()
    receiver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "receiver_app:app",
            "--port",
            str(PORT),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=Path(__file__).parent,
    )
    base = f"http://127.0.0.1:{PORT}"
    for _ in range(100):
        try:
            httpx.get(base)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings(
                data_dir=Path(tmp),
                admin_key=KEY,
                check_cache_mb=16,
                webhook_allow_networks="127.0.0.0/8",  # the receiver runs on this machine
                **({"database_url": args.database_url} if args.database_url else {}),
            )
            hub = Hub.open(settings)
            with hub.db.write() as conn:
                purposes.create(
                    hub,
                    conn,
                    PurposeCreate(
                        id="newsletter",
                        title="Newsletter",
                        description="Offers by e-mail.",
                        legal_basis="consent",
                        channels=["email"],
                    ),
                )
                ids = [customers.create(hub, conn, CustomerCreate())["id"] for _ in range(2000)]
            _changes(hub, ids, CHANGES)
            hub.outbox.integrate_all()

            # The feed, catching up.
            with TestClient(create_app(hub, run_sequencer=False)) as client:
                client.headers["Authorization"] = f"Bearer {KEY}"
                t0 = time.perf_counter()
                read, cursor = 0, None
                while True:
                    params = {"limit": 10_000, **({"after": cursor} if cursor else {})}
                    page = client.get("/v1/changes", params=params).json()
                    if not page["changes"]:
                        break
                    read += len(page["changes"])
                    cursor = page["next"]
                feed_s = time.perf_counter() - t0

            # Delivery of a backlog (to an endpoint of a real app).
            with hub.db.write() as conn:
                app = apps.create(hub, conn, "crm", ["webhooks:manage"], ["*"])
                owner = Caller(app["id"], "crm", frozenset({"webhooks:manage"}), frozenset({"*"}))
                webhooks.create_endpoint(hub, conn, owner, EndpointIn(url=f"{base}/hook"))
            worker = WebhookWorker(hub)
            env = {
                **os.environ,
                "CONSENTRY_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8",
                "CONSENTRY_DATA_DIR": tmp,
                "CONSENTRY_ADMIN_KEY": KEY,
                "CONSENTRY_CHECK_CACHE_MB": "16",
                "CONSENTRY_DATABASE_URL": args.database_url or "",
            }
            others = [
                subprocess.Popen(
                    [str(Path(sys.executable).parent / "consentry"), "worker"],
                    env=env,
                    stdout=subprocess.DEVNULL,
                )
                for _ in range(args.workers - 1)
            ]
            t0 = time.perf_counter()
            worker.start()
            poll = httpx.Client()  # one client: making one per poll costs the worker CPU
            while poll.get(f"{base}/count").json()["count"] < CHANGES:
                time.sleep(0.05)
            delivery_s = time.perf_counter() - t0

            # Commit to delivery at a steady rate, with the background sequencer.
            loop = SequencerLoop(hub)
            loop.start()
            committed: dict[int, float] = {}
            start_position = CHANGES
            rate, seconds = 200, 10
            t_start = time.perf_counter()
            made = 0
            while made < rate * seconds:
                target = t_start + made / rate
                time.sleep(max(0.0, target - time.perf_counter()))
                _changes(hub, ids, 1, offset=made)
                made += 1
                committed[start_position + made] = time.time()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                if poll.get(f"{base}/count").json()["count"] >= CHANGES + made:
                    break
                time.sleep(0.1)
            stats = poll.get(base).json()
            loop.stop()
            worker.stop()
            for other in others:
                other.terminate()
                other.wait()
            hub.close()
        arrivals = stats["arrivals"]
        latencies = [
            arrivals[f"msg_{p}"] - t for p, t in committed.items() if f"msg_{p}" in arrivals
        ]
    finally:
        receiver.terminate()
        receiver.wait()
    engine = "postgres" if args.database_url else "sqlite"
    suffix = f"_{args.workers}_workers" if args.workers > 1 else ""
    write(
        f"webhooks_{engine}{suffix}",
        {
            "engine": engine,
            "worker_processes": args.workers,
            "delivery": {
                "changes": CHANGES,
                "seconds": round(delivery_s, 2),
                "per_second": round(CHANGES / delivery_s),
                "goal_per_second": 2000,
            },
            "commit_to_delivery": {
                "changes": len(committed),
                "delivered": len(latencies),
                "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
                "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
                "goal_p99_ms": 1000,
            },
            "feed": {
                "changes": read,
                "seconds": round(feed_s, 2),
                "per_second": round(read / feed_s),
                "goal_per_second": 20000,
            },
        },
    )


if __name__ == "__main__":
    main()
