"""The real-time check and the batch check (a campaign's suppression list)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from consentry.domain.access import Caller, Scope
from consentry.domain.checks import CheckFacts, CheckQuestion
from consentry.domain.clock import rfc3339_micros
from consentry.domain.consent import CustomerStatus, batch_verdicts, decide, in_force
from consentry.domain.errors import (
    CustomerNotFound,
    DomainError,
    InvalidInput,
    Unauthenticated,
    UnknownPurpose,
)
from consentry.schemas.common import MAX_BATCH
from consentry.services import purposes
from consentry.services.apps import caller_of, hash_key
from consentry.services.hub import Hub
from consentry.services.metrics import CHECKS
from consentry.store import consents as consent_store


def check(
    hub: Hub, key: str | None, customer_id: str, purpose_id: str, channel: str | None
) -> dict[str, Any]:
    """The real-time check, authentication included: one read of the committed state."""
    answers, asked = _asked(hub, [(key, customer_id, purpose_id, channel)])
    reads = [hub.checks.read(*question) for _, question in asked]
    return _only(_answered(hub, answers, asked, reads))


# (the caller's key, customer id, purpose id, channel or None)
Question = tuple[str | None, str, str, str | None]


async def check_async(
    hub: Hub, question: Question, read: Callable[[CheckQuestion], Awaitable[CheckFacts]]
) -> dict[str, Any]:
    """The real-time check, its read made by ``read`` without holding up the event loop (on
    PostgreSQL together with the reads of other checks: api/check_batch)."""
    answers, asked = _asked(hub, [question])
    reads = [await read(q) for _, q in asked]
    return _only(_answered(hub, answers, asked, reads))


def _only(answers: _Answers) -> dict[str, Any]:
    answer = answers[0]
    if isinstance(answer, Exception):
        raise answer
    CHECKS.inc()
    return answer


_Answers = list[dict[str, Any] | DomainError]
_Asked = list[tuple[int, CheckQuestion]]


def _asked(hub: Hub, questions: list[Question]) -> tuple[_Answers, _Asked]:
    """The answers so far (a check without a key needs no read) and the reads to make, each
    with the place of its answer."""
    answers: _Answers = []
    asked: _Asked = []
    for key, customer_id, purpose_id, channel in questions:
        if not key:
            answers.append(Unauthenticated("send the app's key as 'Authorization: Bearer <key>'"))
        else:
            asked.append((len(answers), (hash_key(hub, key), customer_id, purpose_id, channel)))
            answers.append({})
    return answers, asked


def _answered(hub: Hub, answers: _Answers, asked: _Asked, reads: list[CheckFacts]) -> _Answers:
    now = hub.now_micros()
    for (at, (_, customer_id, purpose_id, channel)), read in zip(asked, reads, strict=True):
        try:
            answers[at] = _answer(read, customer_id, purpose_id, channel, now)
        except DomainError as exc:
            answers[at] = exc
    return answers


def _answer(
    read: CheckFacts, customer_id: str, purpose_id: str, channel: str | None, now: int
) -> dict[str, Any]:
    caller = caller_of(read.app)
    caller.require(Scope.CONSENTS_READ)
    caller.require_purpose(purpose_id)
    if read.customer is None:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    if read.purpose is None:
        raise UnknownPurpose(
            f"unknown purpose {purpose_id!r}", [{"loc": ["query", "purpose"], "msg": "unknown"}]
        )
    read.purpose.check_channel(channel)
    status, restricted = read.customer
    decision = decide(
        read.purpose,
        in_force(*read.entries),
        now,
        erased=status == CustomerStatus.ERASED.value,
        restricted=restricted,
    )
    return {
        "allowed": decision.allowed,
        "reason": decision.reason.value,
        "record_id": decision.record_id,
        "since": rfc3339_micros(decision.since) if decision.since is not None else None,
    }


def batch_check(
    hub: Hub, caller: Caller, purpose_id: str, channel: str | None, customer_ids: list[str]
) -> dict[str, list[str]]:
    if len(customer_ids) > MAX_BATCH:
        raise InvalidInput(
            f"at most {MAX_BATCH} customers a batch",
            [{"loc": ["customers"], "msg": f"at most {MAX_BATCH}"}],
        )
    caller.require_purpose(purpose_id)
    ids = list(dict.fromkeys(customer_ids))
    with hub.db.read() as conn:
        purpose = purposes.require(conn, purpose_id)
    purpose.check_channel(channel)
    rows = consent_store.batch_states(hub.db, ids, purpose_id, channel)
    verdicts = batch_verdicts(purpose, hub.now_micros(), rows)
    allowed: list[str] = []
    denied: list[str] = []
    unknown: list[str] = []
    for cid in ids:
        verdict = verdicts.get(cid)
        (unknown if verdict is None else allowed if verdict else denied).append(cid)
    CHECKS.inc(len(ids))
    return {"allowed": allowed, "denied": denied, "unknown": unknown}
