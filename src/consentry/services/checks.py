"""The real-time check and the batch check (a campaign's suppression list)."""

from __future__ import annotations

from typing import Any

from consentry.domain.access import Caller
from consentry.domain.clock import rfc3339_micros
from consentry.domain.consent import Action, ConsentEntry, decide, in_force
from consentry.domain.errors import CustomerNotFound, InvalidInput, UnknownPurpose
from consentry.schemas import MAX_BATCH
from consentry.services import purposes
from consentry.services.hub import Hub
from consentry.store import consents as consent_store
from consentry.store import customers as customer_store
from consentry.store.checks import check_rows
from consentry.store.purposes import purpose_from_row


def check(
    hub: Hub, caller: Caller, customer_id: str, purpose_id: str, channel: str | None
) -> dict[str, Any]:
    caller.require_purpose(purpose_id)
    with hub.db.read() as conn:
        rows = check_rows(conn, customer_id, purpose_id, channel)
    if not rows:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    first = rows[0]
    if first.id is None:
        raise UnknownPurpose(
            f"unknown purpose {purpose_id!r}", [{"loc": ["query", "purpose"], "msg": "unknown"}]
        )
    purpose = purpose_from_row(first)
    purpose.check_channel(channel)
    entries = [
        ConsentEntry(Action(r.action), r.entry_version, r.record_id, r.since, r.record_pk)
        for r in rows
        if r.action is not None
    ]
    decision = decide(
        purpose,
        in_force(*entries),
        hub.now_micros(),
        erased=first.status == "erased",
        restricted=bool(first.restricted),
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
        known = customer_store.states(conn, ids)
        entries = consent_store.entries_for_customers(conn, ids, purpose_id, channel)
    now = hub.now_micros()
    allowed: list[str] = []
    denied: list[str] = []
    unknown: list[str] = []
    for cid in ids:
        state = known.get(cid)
        if state is None:
            unknown.append(cid)
            continue
        status, restricted = state
        decision = decide(
            purpose,
            in_force(*entries.get(cid, ())),
            now,
            erased=status == "erased",
            restricted=restricted,
        )
        (allowed if decision.allowed else denied).append(cid)
    return {"allowed": allowed, "denied": denied, "unknown": unknown}
