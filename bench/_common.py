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
