"""Nothing lost, nothing applied twice: a real `consentry serve` takes a burst of 10,000 consent
changes from 16 clients and is killed with SIGKILL twice at random moments; clients retry with
their Idempotency-Key until answered. Every acknowledged change reaches a real local webhook
receiver at least once, a redelivered message keeps its webhook-id, and each customer's changes
arrive in the order they were made."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.conftest import ADMIN_KEY
from tests.receiver import receiving
from tests.servers import free_port

CHANGES = 10_000
CUSTOMERS = 200
HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CONSENTRY_DATA_DIR": str(data_dir),
            "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
            "CONSENTRY_CHECK_CACHE_MB": "16",
        }
        self.env.pop("CONSENTRY_DATABASE_URL", None)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "consentry.cli", "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


def test_a_burst_survives_sigkill(tmp_path: Path) -> None:
    server = Server(tmp_path / "data")
    server.start()
    rng = random.Random(7)
    try:
        with receiving() as receiver, httpx.Client(base_url=server.base, headers=HEADERS) as api:
            purpose = {
                "id": "newsletter",
                "title": "Newsletter",
                "description": "Offers by e-mail.",
                "legal_basis": "consent",
                "channels": ["email"],
            }
            assert api.post("/v1/purposes", json=purpose).status_code == 201
            assert api.post("/v1/webhooks", json={"url": receiver.url}).status_code == 201
            customers = [api.post("/v1/customers", json={}).json()["id"] for _ in range(CUSTOMERS)]

            acknowledged: dict[str, list[str]] = {c: [] for c in customers}

            def send_all(customer: str, count: int) -> None:
                with httpx.Client(base_url=server.base, headers=HEADERS, timeout=10) as own:
                    for n in range(count):
                        body = {
                            "purpose": "newsletter",
                            "channel": "email",
                            "action": "grant" if n % 2 == 0 else "withdraw",
                            "notice_version": 1,
                            "source": "web",
                            "actor": {"type": "customer"},
                        }
                        key = f"{customer}-{n}"
                        while True:
                            try:
                                r = own.post(
                                    f"/v1/customers/{customer}/consents",
                                    json=body,
                                    headers={"Idempotency-Key": key},
                                )
                            except httpx.TransportError:
                                time.sleep(0.05)  # the server is down: try again
                                continue
                            if r.status_code == 201:
                                acknowledged[customer].append(r.json()["record"]["id"])
                                break
                            assert r.status_code >= 500 or r.status_code == 409, r.text
                            time.sleep(0.05)

            def killer() -> None:
                for _ in range(2):
                    time.sleep(rng.uniform(1.5, 4.0))
                    server.kill()
                    server.start()

            kills = threading.Thread(target=killer)
            kills.start()
            per_customer = CHANGES // CUSTOMERS
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda c: send_all(c, per_customer), customers))
            kills.join()
            made = [r for records in acknowledged.values() for r in records]
            assert len(made) == len(set(made)) == CHANGES  # nothing applied twice

            # Leases of the chains in flight at a kill run out after ~105 s: room for two.
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                with receiver.lock:
                    got = {h.json["data"]["record_id"] for h in receiver.received}
                if got >= set(made):
                    break
                time.sleep(0.5)
            with receiver.lock:
                hits = list(receiver.received)
    finally:
        server.stop()
    delivered = {h.json["data"]["record_id"] for h in hits}
    missing = set(made) - delivered
    assert not missing, f"{len(missing)} acknowledged changes never delivered"
    by_id: dict[str, str] = {}
    for hit in hits:  # a redelivery carries the same webhook-id for the same change
        record = hit.json["data"]["record_id"]
        assert by_id.setdefault(hit.headers["webhook-id"], record) == record
    first_seen: dict[str, list[str]] = {}
    for hit in hits:
        data = hit.json["data"]
        order = first_seen.setdefault(data["customer"], [])
        if data["record_id"] not in order:
            order.append(data["record_id"])
    for customer, records in acknowledged.items():
        assert first_seen[customer] == records, customer
