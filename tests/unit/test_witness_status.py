"""When a witness counts as falling behind."""

from __future__ import annotations

from consentry.domain.witnesses import LastCosigned, witness_statuses

MINUTE = 60 * 10**6
NOW = 1_000_000 * MINUTE


def _late(size: int, silent_minutes: int, log_size: int) -> bool:
    last = {"w": LastCosigned(size, 0, NOW - silent_minutes * MINUTE)}
    [status] = witness_statuses(["w"], last, log_size, NOW, lag_seconds=15 * 60)
    return status.late


def test_a_witness_is_late_only_when_silent_while_the_log_grew() -> None:
    assert not _late(10, 5, 20)  # recent, the log grew: it will catch up on its next round
    assert _late(10, 30, 20)  # silent for 30 minutes with 10 records it never saw
    assert not _late(20, 300, 20)  # nothing new to cosign is nothing to do


def test_a_witness_that_never_cosigned_is_late_once_there_is_a_log() -> None:
    assert [s.late for s in witness_statuses(["w"], {}, 0, NOW, 900)] == [False]
    [status] = witness_statuses(["w"], {}, 3, NOW, 900)
    assert status.late and status.never and status.behind_by == 3
