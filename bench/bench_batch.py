"""Batch check of 100,000 ids against a database made by make_db.py: the service's time
(what the server spends) and the full HTTP round trip.

    python bench/bench_batch.py DATABASE_URL DATA_DIR [ENGINE_LABEL]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import httpx

from _common import Server, write
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.services import checks
from consentry.services.hub import Hub
from consentry.settings import Settings
from make_db import BENCH_KEY

BATCH = 100_000


def main(url: str, data_dir: str, label: str) -> None:
    with (Path(data_dir) / "customer-ids.txt").open() as handle:
        ids = [line.strip() for _, line in zip(range(BATCH), handle, strict=False)]
    hub = Hub.open(Settings(database_url=url, data_dir=Path(data_dir)))
    caller = Caller("b", "b", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
    service = []
    for _ in range(6):
        t0 = time.perf_counter()
        answer = checks.batch_check(hub, caller, "newsletter", "email", ids)
        service.append(time.perf_counter() - t0)
    hub.close()
    assert len(answer["allowed"]) + len(answer["denied"]) == len(ids)
    http = []
    with Server(url, data_dir, BENCH_KEY, workers=1) as server:
        body = {"purpose": "newsletter", "channel": "email", "customers": ids}
        headers = {"Authorization": f"Bearer {BENCH_KEY}"}
        for _ in range(4):
            t0 = time.perf_counter()
            r = httpx.post(f"{server.base}/v1/check/batch", json=body, headers=headers, timeout=60)
            http.append(time.perf_counter() - t0)
            r.raise_for_status()
    write(
        f"batch_{label}",
        {
            "engine": label,
            "ids": len(ids),
            "allowed": len(answer["allowed"]),
            "service_s_median": round(statistics.median(service[1:]), 3),
            "service_s_max": round(max(service[1:]), 3),
            "http_round_trip_s_median": round(statistics.median(http[1:]), 3),
        },
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "sqlite")
