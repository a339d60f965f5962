"""How the log's witnesses keep up: for each witness the hub expects, what it last cosigned,
how long ago, how far the log has grown since, and whether it is falling behind."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class LastCosigned:
    size: int
    cosigned_at: int  # the witness's clock, POSIX seconds
    received_at: int  # ours, µs


@dataclass(frozen=True)
class WitnessStatus:
    name: str
    last: LastCosigned | None
    behind_by: int  # records the log holds beyond what the witness cosigned
    silent_for: int | None  # seconds since its last cosignature reached us
    late: bool

    @property
    def never(self) -> bool:
        return self.last is None


def witness_statuses(
    expected: list[str],
    last: Mapping[str, LastCosigned],
    log_size: int,
    now_micros: int,
    lag_seconds: int,
) -> list[WitnessStatus]:
    """A witness is late when the log holds records it has not cosigned and it has been silent
    for longer than ``lag_seconds`` (or has never cosigned at all). A log that did not grow
    needs no new cosignature: its witness is not late for having nothing to do."""
    statuses = []
    for name in expected:
        seen = last.get(name)
        if seen is None:
            statuses.append(WitnessStatus(name, None, log_size, None, log_size > 0))
            continue
        silent = max(0, (now_micros - seen.received_at) // 1_000_000)
        behind = max(0, log_size - seen.size)
        statuses.append(
            WitnessStatus(name, seen, behind, silent, behind > 0 and silent > lag_seconds)
        )
    return statuses
