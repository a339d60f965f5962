"""The one read behind a real-time check: customer, purpose and state rows in one query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select

from consentry.domain.consent import ALL_CHANNELS
from consentry.store.tables import consent_state, customers, purposes


def check_rows(
    conn: Connection, customer_id: str, purpose_id: str, channel: str | None
) -> list[Any]:
    scopes = [ALL_CHANNELS] if channel is None else [channel, ALL_CHANNELS]
    query = (
        select(
            customers.c.status,
            customers.c.restricted,
            purposes,
            consent_state.c.action,
            consent_state.c.purpose_version.label("entry_version"),
            consent_state.c.record_id,
            consent_state.c.since,
            consent_state.c.record_pk,
        )
        .select_from(customers)
        .outerjoin(purposes, purposes.c.id == purpose_id)
        .outerjoin(
            consent_state,
            and_(
                consent_state.c.customer_id == customers.c.id,
                consent_state.c.purpose == purpose_id,
                consent_state.c.channel.in_(scopes),
            ),
        )
        .where(customers.c.id == customer_id)
    )
    return list(conn.execute(query))
