"""The consent rules that refusals and double opt-in add: which record decides a scope, what a
request's status is over time, and which grants wait for confirmation."""

from __future__ import annotations

from consentry.domain.consent import (
    MICROS_PER_DAY,
    Action,
    ConsentEntry,
    Source,
    Status,
    status_of,
    takes_effect,
)
from consentry.domain.purposes import LegalBasis, Purpose
from consentry.services.confirmations import needed


def _purpose(**confirm: str) -> Purpose:
    return Purpose(
        "newsletter", 1, "Newsletter", "…", "h", LegalBasis.CONSENT, ("email", "sms"), False,
        None, 1, 0, 0, confirmations=tuple(sorted(confirm.items())), confirm_days=7,
    )  # fmt: skip


def _entry(action: Action, since: int, order: int) -> ConsentEntry:
    return ConsentEntry(action, 1, f"rec_{order}", since, order)


def test_a_refusal_never_outweighs_a_grant_or_a_request_in_effect() -> None:
    p, now = _purpose(), 100 * MICROS_PER_DAY
    refusal = _entry(Action.REFUSE, now, 9)
    assert takes_effect(p, refusal, None, now)
    assert not takes_effect(p, refusal, _entry(Action.GRANT, now - 1, 1), now)
    assert not takes_effect(p, refusal, _entry(Action.REQUEST, now - 1, 1), now)
    assert takes_effect(p, refusal, _entry(Action.WITHDRAW, now - 1, 1), now)
    expired = _entry(Action.REQUEST, now - 8 * MICROS_PER_DAY, 1)  # unconfirmed for 8 days
    assert takes_effect(p, refusal, expired, now)
    later_grant = _entry(Action.GRANT, now, 10)
    assert takes_effect(p, later_grant, refusal, now)


def test_a_request_waits_then_expires() -> None:
    p, asked = _purpose(email="email"), 10 * MICROS_PER_DAY
    request = _entry(Action.REQUEST, asked, 1)
    assert status_of(p, request, asked + 6 * MICROS_PER_DAY) is Status.UNCONFIRMED
    assert status_of(p, request, asked + 7 * MICROS_PER_DAY) is Status.EXPIRED
    assert status_of(p, _entry(Action.REFUSE, asked, 2), asked) is Status.REFUSED


def test_which_grants_wait_for_confirmation() -> None:
    by_channel, whole = _purpose(email="email"), _purpose(**{"*": "email"})
    assert needed(by_channel, "email", Source.WEB, at_point=False) == "email"
    assert needed(by_channel, "sms", Source.WEB, at_point=False) is None
    assert needed(by_channel, None, Source.APP, at_point=False) == "email"  # covers e-mail too
    assert needed(whole, "sms", Source.WEB, at_point=False) == "email"  # "*": every channel
    for in_person in (Source.STORE, Source.CALL_CENTRE, Source.IMPORT):
        assert needed(by_channel, "email", in_person, at_point=False) is None
    assert needed(by_channel, "email", Source.STORE, at_point=True) == "email"  # a till's form
