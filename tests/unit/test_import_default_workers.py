"""How many processes `consentry import consents` starts when not told."""

from __future__ import annotations

from pathlib import Path

from consentry.services.import_workers import PARALLEL_FROM_BYTES, default_workers


def test_one_process_for_a_small_file_one_per_core_for_a_big_one(tmp_path: Path) -> None:
    small, big = tmp_path / "small.csv", tmp_path / "big.csv"
    small.write_bytes(b"x" * (PARALLEL_FROM_BYTES - 1))
    with big.open("wb") as out:
        out.truncate(PARALLEL_FROM_BYTES)
    assert default_workers(small, cpus=2) == 1
    assert default_workers(big, cpus=1) == 1
    assert default_workers(big, cpus=2) == 2
    assert default_workers(big, cpus=64) == 8  # more processes would only queue to write
