"""Consent state and the check rules: which record is in force, and what it allows.

State is a pure function of the evidence: for every purpose-and-channel scope the record in force
is the latest by ``(captured_at, order)``, where ``order`` is the record's position in the write
order. A scope is one channel or ``ALL_CHANNELS`` (a record given without a channel); for a
channel, the later of its own record and the all-channel record is in force. So a general
withdrawal after a channel grant stops that channel too, and a record captured offline earlier
than what is already known never overrides it (it is kept as evidence all the same).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NamedTuple

# ALL_CHANNELS stays importable from here, where the scopes are explained.
from consentry.domain.purposes import ALL_CHANNELS as ALL_CHANNELS
from consentry.domain.purposes import LegalBasis, Purpose

MICROS_PER_DAY = 86_400_000_000


class Action(StrEnum):
    GRANT = "grant"
    WITHDRAW = "withdraw"
    # A box shown and left unticked (DPV ConsentRefused): evidence of a "no", which decides
    # the state only where no grant or request is in effect (an unticked box at checkout does
    # not unsubscribe a subscriber).
    REFUSE = "refuse"
    # A grant waiting for the address owner's confirmation (double opt-in; DPV
    # ConsentRequested): not allowed until confirmed, expired after the purpose's days.
    REQUEST = "request"


class Source(StrEnum):
    WEB = "web"
    APP = "app"
    STORE = "store"
    CALL_CENTRE = "call_centre"
    EMAIL = "email"
    IMPORT = "import"
    API = "api"


class ActorType(StrEnum):
    CUSTOMER = "customer"
    STAFF = "staff"
    APP = "app"


class Status(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    STALE = "stale"
    NOT_SET = "not_set"
    REFUSED = "refused"
    UNCONFIRMED = "unconfirmed"


class Reason(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    STALE = "stale"
    NOT_SET = "not_set"
    REFUSED = "refused"
    UNCONFIRMED = "unconfirmed"
    LEGITIMATE_INTEREST = "legitimate_interest"
    OBJECTED = "objected"
    ERASED = "erased"
    RESTRICTED = "restricted"
    # Not consent-based: the purpose's legal basis itself allows the use.
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"


class CustomerStatus(StrEnum):
    ACTIVE = "active"
    ERASED = "erased"


class ConsentEntry(NamedTuple):
    """The record in force for one purpose-and-channel scope.

    A named tuple, not a dataclass: a batch check builds 100,000 of them, and a frozen
    dataclass costs five times as much to construct."""

    action: Action
    purpose_version: int
    record_id: str
    since: int  # captured_at, microseconds since the epoch
    order: int  # write order of the record: breaks ties between equal captured_at

    def supersedes(self, other: ConsentEntry | None) -> bool:
        return other is None or (self.since, self.order) > (other.since, other.order)


def in_force(*entries: ConsentEntry | None) -> ConsentEntry | None:
    """The latest of the entries that exist (a channel's own and the all-channel one)."""
    best: ConsentEntry | None = None
    for entry in entries:
        if entry is not None and entry.supersedes(best):
            best = entry
    return best


def takes_effect(
    purpose: Purpose, record: ConsentEntry, previous: ConsentEntry | None, now: int
) -> bool:
    """Whether a new record decides its scope's state: it is the latest (``supersedes``), and
    it is not a refusal meeting a grant or a request still in effect."""
    if not record.supersedes(previous):
        return False
    if record.action is Action.REFUSE and previous is not None:
        return status_of(purpose, previous, now) not in (Status.GRANTED, Status.UNCONFIRMED)
    return True


def expiry_cutoff(purpose: Purpose, now: int) -> int | None:
    """Grants captured at or before this moment have expired (None: the purpose's never do)."""
    if purpose.expires_after_days is None:
        return None
    return now - purpose.expires_after_days * MICROS_PER_DAY


def status_of(purpose: Purpose, entry: ConsentEntry | None, now: int) -> Status:
    if entry is None:
        return Status.NOT_SET
    if entry.action is Action.WITHDRAW:
        return Status.WITHDRAWN
    if entry.action is Action.REFUSE:
        return Status.REFUSED
    if entry.purpose_version < purpose.stale_before_version:
        return Status.STALE
    if entry.action is Action.REQUEST:
        unconfirmed_until = entry.since + purpose.confirm_days * MICROS_PER_DAY
        return Status.UNCONFIRMED if now < unconfirmed_until else Status.EXPIRED
    cutoff = expiry_cutoff(purpose, now)
    if cutoff is not None and entry.since <= cutoff:
        return Status.EXPIRED
    return Status.GRANTED


class Decision(NamedTuple):
    allowed: bool
    reason: Reason
    record_id: str | None
    since: int | None


def decide(
    purpose: Purpose,
    entry: ConsentEntry | None,
    now: int,
    *,
    erased: bool = False,
    restricted: bool = False,
    status: Status | None = None,
) -> Decision:
    """May the purpose be pursued for this customer now? The one place the rules live.
    ``status``: the entry's, when the caller has it already (``status_of``)."""
    record_id = entry.record_id if entry else None
    since = entry.since if entry else None
    if erased:
        return Decision(False, Reason.ERASED, None, None)
    if restricted:
        return Decision(False, Reason.RESTRICTED, record_id, since)
    basis = purpose.legal_basis
    if basis is LegalBasis.CONTRACT:
        return Decision(True, Reason.CONTRACT, record_id, since)
    if basis is LegalBasis.LEGAL_OBLIGATION:
        return Decision(True, Reason.LEGAL_OBLIGATION, record_id, since)
    if status is None:
        status = status_of(purpose, entry, now)
    if basis is LegalBasis.LEGITIMATE_INTEREST:
        if status in (Status.WITHDRAWN, Status.REFUSED):
            return Decision(False, Reason.OBJECTED, record_id, since)
        return Decision(True, Reason.LEGITIMATE_INTEREST, record_id, since)
    return Decision(status is Status.GRANTED, _REASON_OF[status], record_id, since)


_REASON_OF = {status: Reason(status.value) for status in Status}


# One customer of a batch check as the store reads it: id, status, restricted, then the
# record in force on the channel's own scope and on the all-channel scope, each as action,
# purpose version, since and order (all None where the scope has no record).
BatchRow = tuple[
    str, str, bool, str | None, int | None, int | None, int | None,
    str | None, int | None, int | None, int | None,
]  # fmt: skip


def batch_verdicts(purpose: Purpose, now: int, rows: Iterable[BatchRow]) -> dict[str, bool]:
    """For each customer of a batch check: does the purpose allow it now?

    The same rules as ``in_force`` and ``decide``, but ``decide`` runs once per kind of state
    (status, restriction, action, version, expired or not) instead of once per customer: a
    campaign's list of 100,000 customers holds a handful of kinds, and the per-customer work
    was most of a batch's time."""
    cutoff = expiry_cutoff(purpose, now)
    by_kind: dict[tuple[str, bool, str | None, int | None, bool], bool] = {}
    verdicts: dict[str, bool] = {}
    erased = CustomerStatus.ERASED.value
    for cid, status, restricted, a1, v1, s1, o1, a2, v2, s2, o2 in rows:
        # The later of the two scopes' records is in force (ConsentEntry.supersedes).
        if a1 is None or (a2 is not None and (s2, o2) > (s1, o1)):
            action, version, since, order = a2, v2, s2, o2
        else:
            action, version, since, order = a1, v1, s1, o1
        expired = cutoff is not None and since is not None and since <= cutoff
        kind = (status, bool(restricted), action, version, expired)
        verdict = by_kind.get(kind)
        if verdict is None:
            entry = None
            if action is not None:
                assert version is not None and since is not None and order is not None
                entry = ConsentEntry(Action(action), version, "", since, order)
            decision = decide(purpose, entry, now, erased=status == erased, restricted=kind[1])
            verdict = by_kind[kind] = decision.allowed
        verdicts[cid] = verdict
    return verdicts
