"""The batch check's shortcut (one ``decide`` per kind of state) gives every customer the
verdict that ``in_force`` and ``decide`` give them one by one."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.domain.consent import (
    MICROS_PER_DAY,
    Action,
    BatchRow,
    ConsentEntry,
    batch_verdicts,
    decide,
    in_force,
)
from consentry.domain.purposes import LegalBasis, Purpose

NOW = 1_800_000_000_000_000
CUTOFF = NOW - 30 * MICROS_PER_DAY

entries = st.none() | st.builds(
    ConsentEntry,
    st.sampled_from(list(Action)),
    st.integers(1, 3),
    st.just("rec"),
    # Just before, at and just after the 30-day expiry, and now: few values, so that
    # customers of one kind of state often differ in expiry only.
    st.sampled_from([CUTOFF - 1, CUTOFF, CUTOFF + 1, NOW]),
    st.integers(1, 3),
)
customers = st.tuples(st.sampled_from(["active", "erased"]), st.booleans(), entries, entries)
purposes = st.builds(
    Purpose,
    id=st.just("newsletter"),
    version=st.just(4),
    title=st.just("News"),
    description=st.just("News"),
    notice_hash=st.just("h"),
    legal_basis=st.sampled_from(list(LegalBasis)),
    channels=st.just(("email",)),
    sensitive=st.just(False),
    expires_after_days=st.none() | st.just(30),
    stale_before_version=st.integers(1, 3),
    created_at=st.just(0),
    updated_at=st.just(0),
)


def _fields(entry: ConsentEntry | None) -> tuple[str | None, int | None, int | None, int | None]:
    if entry is None:
        return None, None, None, None
    return entry.action.value, entry.purpose_version, entry.since, entry.order


@settings(max_examples=300)
@given(purposes, st.lists(customers, max_size=40))
def test_every_customer_gets_the_verdict_decide_gives(
    purpose: Purpose, people: list[tuple[str, bool, ConsentEntry | None, ConsentEntry | None]]
) -> None:
    rows: list[BatchRow] = [
        (f"cus_{n}", status, restricted, *_fields(own), *_fields(every))
        for n, (status, restricted, own, every) in enumerate(people)
    ]
    expected = {
        f"cus_{n}": decide(
            purpose, in_force(own, every), NOW, erased=status == "erased", restricted=restricted
        ).allowed
        for n, (status, restricted, own, every) in enumerate(people)
    }
    assert batch_verdicts(purpose, NOW, rows) == expected
