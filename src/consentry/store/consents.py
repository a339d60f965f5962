"""Evidence records as written, the openings of their commitments, and current consent state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from consentry.domain.consent import ALL_CHANNELS, Action, ConsentEntry
from consentry.store.customers import CHUNK
from consentry.store.tables import consent_state, evidence_openings, evidence_records


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
    return int(
        conn.execute(
            evidence_records.insert()
            .values(
                id=record_id,
                customer_id=customer_id,
                purpose=purpose,
                purpose_version=purpose_version,
                channel=channel,
                action=action,
                captured_at=captured_at,
                leaf=leaf,
                leaf_hash=leaf_hash,
            )
            .returning(evidence_records.c.pk)
        ).scalar_one()
    )


def insert_openings(
    conn: Connection, record_id: str, customer_id: str, openings: dict[str, Any]
) -> None:
    if openings:
        conn.execute(
            evidence_openings.insert().values(
                record_id=record_id, customer_id=customer_id, openings=openings
            )
        )


def _entry(row: Any) -> ConsentEntry:
    return ConsentEntry(
        Action(row.action), row.purpose_version, row.record_id, row.since, row.record_pk
    )


def entries(
    conn: Connection, customer_id: str, purpose: str | None = None
) -> dict[tuple[str, str], ConsentEntry]:
    """The state rows of a customer: (purpose, channel or "*") → the record in force."""
    query = select(consent_state).where(consent_state.c.customer_id == customer_id)
    if purpose is not None:
        query = query.where(consent_state.c.purpose == purpose)
    return {(r.purpose, r.channel): _entry(r) for r in conn.execute(query)}


def put_entry(
    conn: Connection,
    customer_id: str,
    purpose: str,
    channel: str,
    entry: ConsentEntry,
    exists: bool,
) -> None:
    values = {
        "action": entry.action.value,
        "purpose_version": entry.purpose_version,
        "record_id": entry.record_id,
        "since": entry.since,
        "record_pk": entry.order,
    }
    if exists:
        conn.execute(
            update(consent_state)
            .where(
                consent_state.c.customer_id == customer_id,
                consent_state.c.purpose == purpose,
                consent_state.c.channel == channel,
            )
            .values(**values)
        )
    else:
        conn.execute(
            consent_state.insert().values(
                customer_id=customer_id, purpose=purpose, channel=channel, **values
            )
        )


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
