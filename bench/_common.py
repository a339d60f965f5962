"""Shared by the benchmarks: percentiles, the machine, and writing results as JSON."""

from __future__ import annotations

import json
import os
import platform
import statistics
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary_ms(samples: list[float]) -> dict[str, float]:
    return {
        "mean_ms": round(statistics.fmean(samples) * 1000, 4),
        "p50_ms": round(percentile(samples, 0.50) * 1000, 4),
        "p99_ms": round(percentile(samples, 0.99) * 1000, 4),
    }


def write(name: str, figures: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    doc = {"benchmark": name, "machine": machine(), **figures}
    (RESULTS / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`consentry serve` in its own process group, for the length of a `with` block."""

    def __init__(self, database_url: str, data_dir: str, admin_key: str, workers: int = 2) -> None:
        import subprocess
        import sys

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "CONSENTRY_DATABASE_URL": database_url,
            "CONSENTRY_DATA_DIR": data_dir,
            "CONSENTRY_ADMIN_KEY": admin_key,
        }
        self._cmd = [
            sys.executable,
            "-m",
            "consentry.cli",
            "serve",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
        ]
        self._env = env
        self._subprocess = subprocess

    def __enter__(self) -> Server:
        import time

        import httpx

        self.proc = self._subprocess.Popen(self._cmd, env=self._env, start_new_session=True)
        for _ in range(600):
            try:
                if httpx.get(f"{self.base}/healthz").status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def __exit__(self, *exc: object) -> None:
        import signal

        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def wrk(
    url: str,
    *,
    connections: int = 32,
    seconds: int = 10,
    script: str | None = None,
    env: dict[str, str] | None = None,
) -> dict[str, float]:
    """Run wrk (Debian package `wrk`) and read requests/s and latency percentiles."""
    import re
    import subprocess

    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        cmd += ["-s", script]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return round(value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, 3)

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": rps,
        "p50_ms": ms("50%"),
        "p90_ms": ms("90%"),
        "p99_ms": ms("99%"),
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }
