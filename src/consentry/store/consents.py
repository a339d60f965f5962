"""Evidence records as written, the openings of their commitments, and current consent state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select, update

from consentry.domain.consent import ALL_CHANNELS, Action, ConsentEntry
from consentry.store.customers import CHUNK
from consentry.store.tables import consent_state, evidence_openings, evidence_records

_INSERT_RECORD = (
    evidence_records.insert()
    .values(
        id=bindparam("b_id"),
        customer_id=bindparam("b_customer_id"),
        purpose=bindparam("b_purpose"),
        purpose_version=bindparam("b_purpose_version"),
        channel=bindparam("b_channel"),
        action=bindparam("b_action"),
        captured_at=bindparam("b_captured_at"),
        leaf=bindparam("b_leaf"),
        leaf_hash=bindparam("b_leaf_hash"),
    )
    .returning(evidence_records.c.pk)
)


def insert_record(
    conn: Connection,
    *,
    record_id: str,
    customer_id: str,
    purpose: str,
    purpose_version: int,
    channel: str | None,
    action: str,
    captured_at: int,
    leaf: bytes,
    leaf_hash: bytes,
) -> int:
    """Append a record (not yet in the tree: ``seq`` is set by the sequencer); its write order."""
    params = {
        "b_id": record_id,
        "b_customer_id": customer_id,
        "b_purpose": purpose,
        "b_purpose_version": purpose_version,
        "b_channel": channel,
        "b_action": action,
        "b_captured_at": captured_at,
        "b_leaf": leaf,
        "b_leaf_hash": leaf_hash,
    }
    return int(conn.execute(_INSERT_RECORD, params).scalar_one())


_INSERT_OPENINGS = evidence_openings.insert()


def insert_openings(
    conn: Connection, record_id: str, customer_id: str, openings: dict[str, Any]
) -> None:
    if openings:
        conn.execute(
            _INSERT_OPENINGS,
            {"record_id": record_id, "customer_id": customer_id, "openings": openings},
        )


def _entry(row: Any) -> ConsentEntry:
    return ConsentEntry(
        Action(row.action), row.purpose_version, row.record_id, row.since, row.record_pk
    )


_ENTRIES = select(consent_state).where(consent_state.c.customer_id == bindparam("b_customer"))
_ENTRIES_OF_PURPOSE = _ENTRIES.where(consent_state.c.purpose == bindparam("b_purpose"))
_UPDATE_ENTRY = (
    update(consent_state)
    .where(
        consent_state.c.customer_id == bindparam("b_customer"),
        consent_state.c.purpose == bindparam("b_purpose"),
        consent_state.c.channel == bindparam("b_channel"),
    )
    .values(
        action=bindparam("b_action"),
        purpose_version=bindparam("b_version"),
        record_id=bindparam("b_record"),
        since=bindparam("b_since"),
        record_pk=bindparam("b_pk"),
    )
)
_INSERT_ENTRY = consent_state.insert().values(
    customer_id=bindparam("b_customer"),
    purpose=bindparam("b_purpose"),
    channel=bindparam("b_channel"),
    action=bindparam("b_action"),
    purpose_version=bindparam("b_version"),
    record_id=bindparam("b_record"),
    since=bindparam("b_since"),
    record_pk=bindparam("b_pk"),
)


def entries(
    conn: Connection, customer_id: str, purpose: str | None = None
) -> dict[tuple[str, str], ConsentEntry]:
    """The state rows of a customer: (purpose, channel or "*") → the record in force."""
    if purpose is None:
        rows = conn.execute(_ENTRIES, {"b_customer": customer_id})
    else:
        rows = conn.execute(_ENTRIES_OF_PURPOSE, {"b_customer": customer_id, "b_purpose": purpose})
    return {(r.purpose, r.channel): _entry(r) for r in rows}


def put_entry(
    conn: Connection,
    customer_id: str,
    purpose: str,
    channel: str,
    entry: ConsentEntry,
    exists: bool,
) -> None:
    params = {
        "b_customer": customer_id,
        "b_purpose": purpose,
        "b_channel": channel,
        "b_action": entry.action.value,
        "b_version": entry.purpose_version,
        "b_record": entry.record_id,
        "b_since": entry.since,
        "b_pk": entry.order,
    }
    conn.execute(_UPDATE_ENTRY if exists else _INSERT_ENTRY, params)


def entries_for_customers(
    conn: Connection, customer_ids: Sequence[str], purpose: str, channel: str | None
) -> dict[str, list[ConsentEntry]]:
    scopes = [ALL_CHANNELS] if channel is None else [channel, ALL_CHANNELS]
    found: dict[str, list[ConsentEntry]] = {}
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        rows = conn.execute(
            select(consent_state).where(
                consent_state.c.purpose == purpose,
                consent_state.c.channel.in_(scopes),
                consent_state.c.customer_id.in_(chunk),
            )
        )
        for r in rows:
            found.setdefault(r.customer_id, []).append(_entry(r))
    return found


def history_rows(conn: Connection, customer_id: str, after_pk: int | None, limit: int) -> list[Any]:
    query = (
        select(
            evidence_records.c.pk,
            evidence_records.c.seq,
            evidence_records.c.leaf,
            evidence_records.c.leaf_hash,
            evidence_openings.c.openings,
        )
        .select_from(
            evidence_records.outerjoin(
                evidence_openings, evidence_openings.c.record_id == evidence_records.c.id
            )
        )
        .where(evidence_records.c.customer_id == customer_id)
        .order_by(evidence_records.c.pk)
        .limit(limit)
    )
    if after_pk is not None:
        query = query.where(evidence_records.c.pk > after_pk)
    return list(conn.execute(query))


def record_by_id(conn: Connection, record_id: str) -> Any | None:
    query = (
        select(
            evidence_records.c.pk,
            evidence_records.c.seq,
            evidence_records.c.leaf,
            evidence_records.c.leaf_hash,
            evidence_openings.c.openings,
        )
        .select_from(
            evidence_records.outerjoin(
                evidence_openings, evidence_openings.c.record_id == evidence_records.c.id
            )
        )
        .where(evidence_records.c.id == record_id)
    )
    return conn.execute(query).first()


def leaf_of(row: Any) -> dict[str, Any]:
    leaf: dict[str, Any] = orjson.loads(row.leaf)
    return leaf
