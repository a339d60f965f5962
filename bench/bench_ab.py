"""Two versions of the code over HTTP, in pairs run back to back: on a machine whose speed
drifts from hour to hour, the fair way to tell what a change did.

    git worktree add /tmp/before <commit>
    python bench/bench_ab.py DATABASE_URL DATA_DIR /tmp/before/src src [PAIRS] [LABEL] [WHAT]

WHAT is ``check`` (the default), ``write``, or one of bench_reads.py's reads of one customer
(``consents``, ``lookup_email_with_consents``, …: its requests, through reads.lua). Each run
starts `consentry serve --workers 2` with PYTHONPATH set to the version's `src`, measures the
bare endpoint, warms up (20 s of checks, or 5 s of consent changes or reads), then measures
10 s of the same at 32 connections (as bench_http.py does, with a shorter warm-up). Writes
results/ab_<WHAT>_<LABEL>.json.

When the change adds a migration, the version before cannot open a database the version after
has migrated: give the after version a copy of its own (made by the before version, so both
start from the same rows) with AB_AFTER_URL and AB_AFTER_DATA_DIR.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from _common import Server, write, wrk
from make_db import BENCH_KEY

HERE = Path(__file__).parent
WARM_UP = {"check": 20, "write": 5}


def run(url: str, data_dir: str, src: str, what: str) -> dict[str, Any]:
    os.environ["PYTHONPATH"] = str(Path(src).resolve())
    env = {"IDS": str(Path(data_dir) / "customer-ids.txt"), "KEY": BENCH_KEY}
    script = str(HERE / f"{what}.lua")
    if what not in WARM_UP:  # a read: its requests through reads.lua
        env["REQS"] = str(Path(data_dir) / f"ab-{what}.txt")
        script = str(HERE / "reads.lua")
    with Server(url, data_dir, BENCH_KEY, workers=2) as server:
        wrk(f"{server.base}/healthz", seconds=3)
        bare = wrk(f"{server.base}/healthz", seconds=10)
        wrk(server.base, seconds=WARM_UP.get(what, 5), script=script, env=env)
        measured = wrk(server.base, seconds=10, script=script, env=env)
    share = round(measured["requests_per_s"] / bare["requests_per_s"], 3)
    print(
        f"{src}: bare {bare['requests_per_s']:.0f}/s, {what} {measured['requests_per_s']:.0f}/s "
        f"({share:.0%}), p50 {measured['p50_ms']} ms, p99 {measured['p99_ms']} ms, "
        f"non-2xx {measured['non_2xx']}",
        flush=True,
    )
    return {"bare": bare, what: measured, "share_of_bare": share}


def main(
    url: str, data_dir: str, before: str, after: str, pairs: int, label: str, what: str
) -> None:
    if what not in WARM_UP:
        from bench_reads import routes

        ids = (Path(data_dir) / "customer-ids.txt").read_text().split()
        # Reads of one customer only: the feed and the centre's page need bench_reads' setup.
        reads = {
            k: v for k, v in routes(ids, [], 1).items() if k not in ("changes_page", "centre_page")
        }
        if what not in reads:
            known = ", ".join([*WARM_UP, *reads])
            raise SystemExit(f"WHAT must be one of {known}, not {what!r}")
        (Path(data_dir) / f"ab-{what}.txt").write_text("\n".join(reads[what]) + "\n")
    after_url = os.environ.get("AB_AFTER_URL", url)
    after_dir = os.environ.get("AB_AFTER_DATA_DIR", data_dir)
    runs = [
        {
            "before": run(url, data_dir, before, what),
            "after": run(after_url, after_dir, after, what),
        }
        for _ in range(pairs)
    ]
    write(
        f"ab_{what}_{label}",
        {"before": version(before), "after": version(after), "pairs": runs},
    )


def version(src: str) -> dict[str, str]:
    """The source tree and the commit it holds (``+`` when it has uncommitted changes)."""
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", src, *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    return {
        "src": src,
        "commit": git("rev-parse", "--short", "HEAD")
        + ("+" if git("status", "--porcelain", ".") else ""),
    }


if __name__ == "__main__":
    main(
        sys.argv[1],
        sys.argv[2],
        sys.argv[3],
        sys.argv[4],
        int(sys.argv[5]) if len(sys.argv) > 5 else 3,
        sys.argv[6] if len(sys.argv) > 6 else "postgres",
        sys.argv[7] if len(sys.argv) > 7 else "check",
    )
