"""The vault on a database made by make_db.py: customer look-up by e-mail in process (blind
index, no decryption needed), a profile read (key store + AES-GCM), and `consentry keys rotate`
re-wrapping every data key.

    python bench/bench_vault.py DATABASE_URL DATA_DIR [ENGINE_LABEL] [--no-rotate]
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from _common import summary_ms, write
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.schemas.customers import CustomerLookup
from consentry.services import customers
from consentry.services.hub import Hub
from consentry.settings import Settings

LOOKUPS = 20_000


def main(url: str, data_dir: str, label: str, rotate: bool) -> None:
    hub = Hub.open(Settings(database_url=url, data_dir=Path(data_dir)))
    caller = Caller("bench", "bench", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
    total = sum(1 for _ in (Path(data_dir) / "customer-ids.txt").open())
    rng = random.Random(5)
    wanted = [rng.randrange(total) for _ in range(LOOKUPS)]
    # Warm-up: the same number of look-ups, not measured.
    for n in wanted:
        customers.lookup(hub, caller, CustomerLookup(email=f"customer{n}@example.com"))
    hub.access.flush()
    lookups = []
    found = []
    for i, n in enumerate(wanted):
        body = CustomerLookup(email=f"Customer{n}@Example.com")
        t0 = time.perf_counter()
        answer = customers.lookup(hub, caller, body)
        lookups.append(time.perf_counter() - t0)
        found.append(answer["id"])
        if i % 1000 == 999:
            hub.access.flush()  # the server's background loop does this every 0.2 s
    hub.access.flush()
    profiles = []
    for cid in found[:5000]:
        t0 = time.perf_counter()
        profile = customers.get_profile(hub, caller, cid)
        profiles.append(time.perf_counter() - t0)
        assert profile["identifiers"]["email"].startswith("customer")
    hub.access.flush()
    figures: dict[str, object] = {
        "engine": label,
        "customers": total,
        "lookup_by_email": {"count": LOOKUPS, **summary_ms(lookups)},
        "profile_read_with_decryption": {"count": len(profiles), **summary_ms(profiles)},
    }
    if rotate:
        keys = hub.vault.keystore.count()
        t0 = time.perf_counter()
        done, retired = hub.vault.rotate(batch=5_000)
        seconds = time.perf_counter() - t0
        assert done >= keys, (done, keys)
        figures["keys_rotate"] = {
            "data_keys": done,
            "seconds": round(seconds, 1),
            "keys_per_s": round(done / seconds),
            "retired": retired,
        }
    hub.close()
    write(f"vault_{label}", figures)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(args[0], args[1], args[2] if len(args) > 2 else "sqlite", "--no-rotate" not in sys.argv)
