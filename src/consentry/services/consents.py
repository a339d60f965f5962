"""Recording consent: grant, withdraw, withdraw everything; reading state and history.

Every accepted change appends one evidence record and updates the current state in the same
transaction (both or neither). The customer's row is locked first, so two writers for one
customer apply their records in the order they are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection

from consentry.domain.access import Caller, Scope
from consentry.domain.changes import ChangeType
from consentry.domain.clock import parse_rfc3339, rfc3339, rfc3339_micros, to_micros
from consentry.domain.consent import (
    ALL_CHANNELS,
    Action,
    ActorType,
    ConsentEntry,
    Source,
    decide,
    in_force,
    status_of,
    takes_effect,
)
from consentry.domain.errors import (
    CustomerNotFound,
    InvalidInput,
    OutdatedNotice,
    SensitivePurposeNeedsCustomer,
    UnknownPurpose,
)
from consentry.domain.evidence import EvidenceRecord, Opening
from consentry.domain.ids import new_id
from consentry.domain.purposes import LegalBasis, Purpose
from consentry.schemas.consents import ConsentChange, WithdrawAll
from consentry.services import changes, confirmations, customers, purposes
from consentry.services.hub import Hub
from consentry.services.metrics import WRITES
from consentry.store import consents as store
from consentry.store import purposes as purpose_store
from consentry.store.customers import CustomerRow, row_of
from consentry.store.pagination import check_limit, decode_cursor, encode_cursor
from consentry.vault.errors import KeyGone

# A till's clock may run a little fast; a capture further in the future is an error.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Capture:
    """Who captured a change, where, when, and with what proof."""

    source: Source
    actor_type: ActorType
    actor_id: str | None
    location: str | None
    captured_at: datetime | None
    proof: dict[str, Any] | None


def capture_of(body: ConsentChange | WithdrawAll) -> Capture:
    return Capture(
        body.source, body.actor.type, body.actor.id, body.location, body.captured_at, body.proof
    )


def record_json(
    row_leaf: dict[str, Any], seq: int | None, leaf_hash: bytes, openings: dict[str, Any] | None
) -> dict[str, Any]:
    openings = openings or {}

    def clear(name: str) -> Any:
        opening = openings.get(name)
        return opening["value"] if opening else None

    return {
        **row_leaf,
        "seq": seq,
        "leaf_hash": leaf_hash.hex(),
        "actor": {"type": row_leaf["actor_type"], "id": clear("actor")},
        "location": clear("location"),
        "proof": clear("proof"),
    }


def check_captured_at(captured: datetime, now: datetime, earliest: datetime) -> None:
    """A capture time is plausible: not in the future (beyond clock skew), not before
    ``earliest`` (CONSENTRY_EARLIEST_CAPTURED_AT)."""
    if captured > now + CLOCK_SKEW:
        raise InvalidInput(
            "captured_at lies in the future", [{"loc": ["captured_at"], "msg": "in the future"}]
        )
    if captured < earliest:
        raise InvalidInput(
            f"captured_at lies before {rfc3339(earliest)}: check the year",
            [{"loc": ["captured_at"], "msg": f"before {rfc3339(earliest)}"}],
        )


def new_record(
    customer_id: str,
    purpose_id: str,
    channel: str | None,
    action: Action,
    notice_version: int,
    notice_hash: str,
    capture: Capture,
    now: datetime,
    earliest: datetime,
) -> tuple[EvidenceRecord, dict[str, Opening], datetime]:
    """The evidence record of a change, with the openings of its commitments."""
    captured = capture.captured_at or now
    check_captured_at(captured, now, earliest)
    openings = {
        name: Opening.of(value)
        for name, value in (
            ("actor", capture.actor_id),
            ("location", capture.location),
            ("proof", capture.proof),
        )
        if value is not None
    }
    record = EvidenceRecord(
        id=new_id("rec"),
        customer_id=customer_id,
        purpose=purpose_id,
        purpose_version=notice_version,
        notice_hash=notice_hash,
        channel=channel,
        action=action,
        source=capture.source,
        actor_type=capture.actor_type,
        actor_commitment=openings["actor"].commitment() if "actor" in openings else None,
        location_commitment=openings["location"].commitment() if "location" in openings else None,
        proof_commitment=openings["proof"].commitment() if "proof" in openings else None,
        captured_at=rfc3339(captured),
        recorded_at=rfc3339(now),
    )
    return record, openings, captured


def stored(openings: dict[str, Opening]) -> dict[str, Any]:
    """Openings as they are kept beside the record (sealed by the vault)."""
    return {name: {"salt": o.salt, "value": o.value} for name, o in openings.items()}


# The vault's field name for a record's openings.
OPENINGS = "openings"


def opened(hub: Hub, customer_id: str, sealed: bytes | None) -> dict[str, Any] | None:
    """The openings of a record, or None when there are none or the customer was erased."""
    if sealed is None:
        return None
    try:
        return dict(hub.vault.unseal_json(customer_id, OPENINGS, sealed))
    except KeyGone:
        return None


def append_record(
    hub: Hub,
    conn: Connection,
    customer: CustomerRow,
    purpose: Purpose,
    *,
    channel: str | None,
    action: Action,
    notice_version: int,
    notice_hash: str,
    capture: Capture,
    current: dict[tuple[str, str], ConsentEntry],
) -> dict[str, Any]:
    """Write one evidence record and apply it to the state; the record as the API shows it."""
    WRITES.inc()
    record, openings, captured = new_record(
        customer.id,
        purpose.id,
        channel,
        action,
        notice_version,
        notice_hash,
        capture,
        hub.now(),
        hub.settings.earliest_captured_at,
    )
    leaf = record.leaf()
    since = to_micros(captured)
    stored_openings = stored(openings)
    scope = channel or ALL_CHANNELS
    previous = current.get((purpose.id, scope))
    # The customer's row is locked, so this record is written after every record of theirs
    # in force: it comes later in write order than any of them (its own order is known only
    # once it is written, in the same statement as the state).
    later = previous.order + 1 if previous is not None else 0
    entry = ConsentEntry(action, notice_version, record.id, since, later)
    in_force = takes_effect(purpose, entry, previous, hub.now_micros())
    order = store.append_change(
        conn,
        store.NewRecord(
            record.id,
            customer.id,
            purpose.id,
            notice_version,
            channel,
            action.value,
            since,
            record.leaf_bytes,
            record.leaf_hash,
        ),
        sealed_openings=(
            hub.vault.seal_json(customer.id, OPENINGS, stored_openings) if stored_openings else None
        ),
        in_force_for=scope if in_force else None,
        state_exists=previous is not None,
        announcement=changes.announcement(
            hub,
            ANNOUNCED_AS.get(action, ChangeType.CONSENT_CHANGED),
            customer.id,
            purpose.id,
            change_body(
                record.id,
                purpose.id,
                channel,
                action,
                notice_version,
                since,
                in_force,
                capture.source,
            ),
        ),
    )
    if in_force:
        current[(purpose.id, scope)] = ConsentEntry(action, notice_version, record.id, since, order)
    return record_json(leaf, None, record.leaf_hash, stored_openings)


ANNOUNCED_AS = {
    Action.REQUEST: ChangeType.CONSENT_REQUESTED,
    Action.REFUSE: ChangeType.CONSENT_REFUSED,
}


def change_body(
    record_id: str,
    purpose: str,
    channel: str | None,
    action: Action,
    notice_version: int,
    captured_at: int,
    in_force: bool,
    source: Source,
) -> dict[str, Any]:
    """What a consent change announces: no personal data, only what changed. ``in_force``:
    whether the record now decides the state (a backdated capture may not); ``source``: where
    the customer gave it (web, app, store, call centre…)."""
    return {
        "record_id": record_id,
        "purpose": purpose,
        "channel": channel,
        "action": action.value,
        "notice_version": notice_version,
        "captured_at": rfc3339_micros(captured_at),
        "in_force": in_force,
        "source": source.value,
    }


def record_change(
    hub: Hub,
    conn: Connection,
    caller: Caller,
    customer_id: str,
    body: ConsentChange,
    *,
    at_point: bool = False,
    customer_signed_in: bool = False,
) -> dict[str, Any]:
    """Record a change. A grant on a channel whose purpose asks for confirmation is recorded
    as a request, and a confirmation kept (services/confirmations.py), when it comes from the
    web, an app or a collection point (``at_point``) — unless the customer acts in a session of
    their own (``customer_signed_in``: the preference centre, opened by their personal link,
    mailed to the stored address or handed to them by the retailer)."""
    found = store.read_for_change(conn, customer_id, body.purpose)
    if found is None:
        raise CustomerNotFound(f"no customer {customer_id!r}")
    customer_row, purpose_key, current = found
    customer = customers.check_active(row_of(customer_row))
    if purpose_key is None:
        raise UnknownPurpose(
            f"unknown purpose {body.purpose!r}", [{"loc": ["purpose"], "msg": "unknown purpose"}]
        )
    purpose = purposes.current(hub, conn, *purpose_key)
    caller.require_purpose(purpose.id)
    purpose.check_channel(body.channel)
    if body.action is Action.GRANT:
        if body.notice_version != purpose.version:
            raise OutdatedNotice(
                f"the customer saw notice version {body.notice_version} of {purpose.id!r}, "
                f"but version {purpose.version} is current: show the current notice and ask again",
                [{"loc": ["notice_version"], "msg": f"current version is {purpose.version}"}],
            )
        if purpose.sensitive:
            if body.actor.type is not ActorType.CUSTOMER:
                raise SensitivePurposeNeedsCustomer(
                    f"{purpose.id!r} is a sensitive purpose: only the customer can grant it",
                    [{"loc": ["actor", "type"], "msg": "must be customer"}],
                )
            # Any app can *say* the actor is the customer; only one that speaks for them (the
            # retailer's own site or app) is believed.
            caller.require(Scope.CONSENTS_SENSITIVE)
    elif body.notice_version > purpose.version:
        raise InvalidInput(
            f"{purpose.id!r} has no notice version {body.notice_version} yet",
            [{"loc": ["notice_version"], "msg": f"at most {purpose.version}"}],
        )
    notice = purposes.notice_hash_of(conn, purpose, body.notice_version)
    action = body.action
    confirm_by = None
    if action is Action.GRANT and not customer_signed_in:
        confirm_by = confirmations.needed(purpose, body.channel, body.source, at_point=at_point)
        if confirm_by is not None:
            action = Action.REQUEST
    record = append_record(
        hub,
        conn,
        customer,
        purpose,
        channel=body.channel,
        action=action,
        notice_version=body.notice_version,
        notice_hash=notice,
        capture=capture_of(body),
        current=current,
    )
    if confirm_by is not None:
        asked_at = to_micros(parse_rfc3339(record["captured_at"]))
        confirmations.open_request(
            hub, conn, customer.id, purpose, body.channel, record["id"], confirm_by, asked_at
        )
    return {"record": record, "state": purpose_state(purpose, current, hub.now_micros(), customer)}


def withdraw_all(
    hub: Hub, conn: Connection, caller: Caller, customer_id: str, body: WithdrawAll
) -> dict[str, Any]:
    """Opt out of everything in one step: every grant in force is withdrawn, and every
    legitimate-interest purpose not yet objected to is objected to."""
    customer = customers.require_active(conn, customer_id, for_update=True)
    current = store.entries(conn, customer.id)
    capture = capture_of(body)
    records = []
    all_purposes = purpose_store.all_purposes(conn)
    for purpose in all_purposes:
        if not caller.may_use(purpose.id):
            continue
        scopes: list[str] = [
            scope
            for (p, scope), entry in current.items()
            if p == purpose.id and entry.action is Action.GRANT
        ]
        if (
            purpose.legal_basis is LegalBasis.LEGITIMATE_INTEREST
            and (purpose.id, ALL_CHANNELS) not in current
        ):
            scopes.append(ALL_CHANNELS)
        for scope in sorted(scopes):
            records.append(
                append_record(
                    hub,
                    conn,
                    customer,
                    purpose,
                    channel=None if scope == ALL_CHANNELS else scope,
                    action=Action.WITHDRAW,
                    notice_version=purpose.version,
                    notice_hash=purpose.notice_hash,
                    capture=capture,
                    current=current,
                )
            )
    now = hub.now_micros()
    return {
        "records": records,
        "consents": [
            entry
            for purpose in all_purposes
            if caller.may_use(purpose.id)
            for entry in purpose_state(purpose, current, now, customer)
        ],
    }


def purpose_state(
    purpose: Purpose,
    current: dict[tuple[str, str], ConsentEntry],
    now: int,
    customer: CustomerRow,
) -> list[dict[str, Any]]:
    """One entry per channel of the purpose (one with channel null if it has none)."""
    general = current.get((purpose.id, ALL_CHANNELS))
    erased = customer.status == "erased"
    out = []
    for channel in purpose.scopes():
        entry = in_force(current.get((purpose.id, channel)) if channel else None, general)
        status = status_of(purpose, entry, now)
        decision = decide(
            purpose, entry, now, erased=erased, restricted=customer.restricted, status=status
        )
        out.append(
            {
                "purpose": purpose.id,
                "channel": channel,
                "status": status.value,
                "allowed": decision.allowed,
                "since": rfc3339_micros(entry.since) if entry else None,
                "purpose_version": entry.purpose_version if entry else None,
                "record_id": entry.record_id if entry else None,
            }
        )
    return out


def list_consents(hub: Hub, caller: Caller, customer_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        customer = customers.require_active(conn, customer_id)
        current = store.entries(conn, customer_id)
        all_purposes = purposes.catalogue(hub, conn)
    return consent_list(caller, all_purposes, current, hub.now_micros(), customer)


def consent_list(
    caller: Caller,
    catalogue: list[Purpose],
    current: dict[tuple[str, str], ConsentEntry],
    now: int,
    customer: CustomerRow,
) -> dict[str, Any]:
    """The customer's consents to the caller's purposes, per channel (GET …/consents)."""
    return {
        "consents": [
            entry
            for purpose in catalogue
            if caller.may_use(purpose.id)
            for entry in purpose_state(purpose, current, now, customer)
        ]
    }


def history(
    hub: Hub, caller: Caller, customer_id: str, after: str | None, limit: int
) -> dict[str, Any]:
    check_limit(limit)
    cursor = decode_cursor(after)
    if cursor is not None and not isinstance(cursor, int):
        raise InvalidInput("the cursor is not one this server gave out")
    with hub.db.read() as conn:
        customers.require(conn, customer_id)
        rows = store.history_rows(conn, customer_id, cursor, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    records = []
    for row in rows:
        leaf = orjson.loads(row.leaf)
        if caller.may_use(leaf["purpose"]):
            openings = opened(hub, customer_id, row.sealed)
            records.append(record_json(leaf, row.seq, bytes(row.leaf_hash), openings))
    return {"records": records, "next": encode_cursor(rows[-1].pk) if more else None}
