"""Consent state and the check rules: which record is in force, and what it allows.

State is a pure function of the evidence: for every purpose-and-channel scope the record in force
is the latest by ``(captured_at, order)``, where ``order`` is the record's position in the write
order. A scope is one channel or ``ALL_CHANNELS`` (a record given without a channel); for a
channel, the later of its own record and the all-channel record is in force. So a general
withdrawal after a channel grant stops that channel too, and a record captured offline earlier
than what is already known never overrides it (it is kept as evidence all the same).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from consentry.domain.purposes import LegalBasis, Purpose

ALL_CHANNELS = "*"
MICROS_PER_DAY = 86_400_000_000


class Action(StrEnum):
    GRANT = "grant"
    WITHDRAW = "withdraw"


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


class Reason(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    STALE = "stale"
    NOT_SET = "not_set"
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


def status_of(purpose: Purpose, entry: ConsentEntry | None, now: int) -> Status:
    if entry is None:
        return Status.NOT_SET
    if entry.action is Action.WITHDRAW:
        return Status.WITHDRAWN
    if entry.purpose_version < purpose.stale_before_version:
        return Status.STALE
    if purpose.expires_after_days is not None and (
        now >= entry.since + purpose.expires_after_days * MICROS_PER_DAY
    ):
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
) -> Decision:
    """May the purpose be pursued for this customer now? The one place the rules live."""
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
    status = status_of(purpose, entry, now)
    if basis is LegalBasis.LEGITIMATE_INTEREST:
        if status is Status.WITHDRAWN:
            return Decision(False, Reason.OBJECTED, record_id, since)
        return Decision(True, Reason.LEGITIMATE_INTEREST, record_id, since)
    return Decision(status is Status.GRANTED, _REASON_OF[status], record_id, since)


_REASON_OF = {status: Reason(status.value) for status in Status}
