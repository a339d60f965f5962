"""Recording consent in process, without HTTP: 32 threads submitting consent changes for random
customers of a database made by make_db.py, each answered once durable (the same use case and
transaction as the API's). Beside bench_http.py's figure it shows what HTTP costs.

    python bench/bench_writes_in_process.py DATABASE_URL DATA_DIR [ENGINE_LABEL]
"""

from __future__ import annotations

import random
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import write
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.schemas.consents import Actor, ConsentChange
from consentry.services import consents
from consentry.services.hub import Hub
from consentry.settings import Settings

THREADS = 32
WARM_UP = 500
CHANGES = 4_000


def main(url: str, data_dir: str, label: str) -> None:
    with (Path(data_dir) / "customer-ids.txt").open() as handle:
        ids = [line.strip() for line in handle]
    hub = Hub.open(Settings(database_url=url, data_dir=Path(data_dir)))
    caller = Caller("b", "b", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
    rng = random.Random(5)

    def change(n: int) -> object:
        body = ConsentChange(
            purpose="newsletter",
            channel="email",
            action="grant" if n % 2 else "withdraw",
            notice_version=1,
            source="web",
            actor=Actor(type="customer"),
        )
        customer = ids[rng.randrange(len(ids))]
        return hub.db.submit_write(
            lambda conn: consents.record_change(hub, conn, caller, customer, body)
        ).result()

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(change, range(WARM_UP)))
        started = time.perf_counter()
        list(pool.map(change, range(CHANGES)))
        elapsed = time.perf_counter() - started
    hub.close()
    write(
        f"writes_in_process_{label}",
        {
            "engine": label,
            "threads": THREADS,
            "changes": CHANGES,
            "changes_per_s": round(CHANGES / elapsed),
        },
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "sqlite")
