"""Over HTTP, against a database made by make_db.py: the bare endpoint and the check at 32
connections (wrk), then recording consent with 32 concurrent clients, then checks at 32
connections while 4 clients record consent.

    python bench/bench_http.py DATABASE_URL DATA_DIR [ENGINE_LABEL] [WORKERS]
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _common import Server, write, wrk
from make_db import BENCH_KEY

HERE = Path(__file__).parent


def warm_page_cache(url: str) -> None:
    """Read an SQLite file once, so that the run measures a warm server, not a cold disk."""
    if url.startswith("sqlite:///"):
        with open(url.removeprefix("sqlite:///"), "rb") as handle:
            while handle.read(1 << 24):
                pass


def main(url: str, data_dir: str, label: str, workers: int = 2) -> None:
    ids = str(Path(data_dir) / "customer-ids.txt")
    warm_page_cache(url)
    env = {"IDS": ids, "KEY": BENCH_KEY}
    with Server(url, data_dir, BENCH_KEY, workers=workers) as server:
        wrk(f"{server.base}/healthz", seconds=3)  # warm up
        bare = wrk(f"{server.base}/healthz", seconds=10)
        # Warm the caches: the steady state is measured, not the first reads from disk.
        wrk(server.base, seconds=60, script=str(HERE / "check.lua"), env=env)
        check = wrk(server.base, seconds=10, script=str(HERE / "check.lua"), env=env)
        writes = wrk(server.base, seconds=10, script=str(HERE / "write.lua"), env=env)
        # Checks while consent keeps changing (4 writing clients): what a till sees at a busy
        # hour, when each commit may take pages from the readers' caches.
        with ThreadPoolExecutor(2) as both:
            changing = both.submit(
                wrk, server.base, connections=4, seconds=10, script=str(HERE / "write.lua"), env=env
            )
            checking = both.submit(
                wrk, server.base, seconds=10, script=str(HERE / "check.lua"), env=env
            )
            mixed = {"check": checking.result(), "record_consent_4_clients": changing.result()}
    write(
        f"http_{label}",
        {
            "engine": label,
            "server_workers": workers,
            "connections": 32,
            "bare_healthz": bare,
            "check": check,
            "check_share_of_bare": round(check["requests_per_s"] / bare["requests_per_s"], 3),
            "record_consent": writes,
            "check_while_recording": mixed,
        },
    )


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2],
        sys.argv[3] if len(sys.argv) > 3 else "sqlite",
        int(sys.argv[4]) if len(sys.argv) > 4 else 2,
    )
