"""The check over HTTP with two versions of the code, in pairs run back to back: on a machine
whose speed drifts from hour to hour, the fair way to tell what a change did.

    git worktree add /tmp/before <commit>
    python bench/bench_check_ab.py DATABASE_URL DATA_DIR /tmp/before/src src [PAIRS] [LABEL]

Each run starts `consentry serve --workers 2` with PYTHONPATH set to the version's `src`,
measures the bare endpoint, warms up with 20 s of checks, then measures 10 s of checks at 32
connections (as bench_http.py does, with a shorter warm-up).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from _common import Server, write, wrk
from make_db import BENCH_KEY

HERE = Path(__file__).parent


def run(url: str, data_dir: str, src: str) -> dict[str, Any]:
    os.environ["PYTHONPATH"] = str(Path(src).resolve())
    env = {"IDS": str(Path(data_dir) / "customer-ids.txt"), "KEY": BENCH_KEY}
    with Server(url, data_dir, BENCH_KEY, workers=2) as server:
        wrk(f"{server.base}/healthz", seconds=3)
        bare = wrk(f"{server.base}/healthz", seconds=10)
        wrk(server.base, seconds=20, script=str(HERE / "check.lua"), env=env)
        check = wrk(server.base, seconds=10, script=str(HERE / "check.lua"), env=env)
    share = round(check["requests_per_s"] / bare["requests_per_s"], 3)
    print(
        f"{src}: bare {bare['requests_per_s']:.0f}/s, check {check['requests_per_s']:.0f}/s "
        f"({share:.0%}), p50 {check['p50_ms']} ms, p99 {check['p99_ms']} ms",
        flush=True,
    )
    return {"bare": bare, "check": check, "check_share_of_bare": share}


def main(url: str, data_dir: str, before: str, after: str, pairs: int, label: str) -> None:
    runs = [
        {"before": run(url, data_dir, before), "after": run(url, data_dir, after)}
        for _ in range(pairs)
    ]
    write(f"check_ab_{label}", {"before": before, "after": after, "pairs": runs})


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2],
        sys.argv[3],
        sys.argv[4],
        int(sys.argv[5]) if len(sys.argv) > 5 else 3,
        sys.argv[6] if len(sys.argv) > 6 else "postgres",
    )
