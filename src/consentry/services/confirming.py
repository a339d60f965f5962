"""The address owner's confirmation of a request (double opt-in, services/confirmations.py):
a grant record whose proof names the request it confirms, written once."""

from __future__ import annotations

from datetime import datetime

from consentry.domain.clock import to_micros
from consentry.domain.consent import ALL_CHANNELS, Action, ActorType, Source
from consentry.domain.errors import DomainError
from consentry.services import confirmations, consents, customers, purposes
from consentry.services.confirmations import Outcome
from consentry.services.hub import Hub
from consentry.store import confirmations as store
from consentry.store import consents as consent_store


def confirm(hub: Hub, token: str) -> Outcome:
    """The address owner confirms, with the link's token: a grant linked to the request, once."""
    return _confirm(hub, confirmations.token_hash(hub, token), None)


def confirm_all_of(hub: Hub, customer_id: str, confirmed_at: datetime) -> list[Outcome]:
    """Every open confirmation of a customer, confirmed at ``confirmed_at``: for a history
    made elsewhere (the demo's year), where no one clicks a link."""
    with hub.db.read() as conn:
        hashes = [r.token_hash for r in store.of_customer(conn, customer_id)]
    return [_confirm(hub, hashed, confirmed_at) for hashed in hashes]


def _confirm(hub: Hub, hashed: str, confirmed_at: datetime | None) -> Outcome:
    now = to_micros(confirmed_at) if confirmed_at is not None else hub.now_micros()
    with hub.db.write() as conn:
        row = store.get(conn, hashed, for_update=True)
        if row is None:
            return Outcome.INVALID
        if row.confirmed_at is not None:
            return Outcome.ALREADY
        if row.expires_at <= now:
            return Outcome.EXPIRED
        try:
            customer = customers.require_active(conn, row.customer_id, for_update=True)
        except DomainError:  # erased meanwhile
            return Outcome.INVALID
        current = consent_store.entries(conn, row.customer_id)
        entry = current.get((row.purpose, row.channel))
        if entry is None or entry.action is not Action.REQUEST:
            return Outcome.REPLACED
        if entry.record_id != row.request_record:
            return Outcome.REPLACED
        purpose = purposes.require(conn, row.purpose)
        consents.append_record(
            hub,
            conn,
            customer,
            purpose,
            channel=None if row.channel == ALL_CHANNELS else row.channel,
            action=Action.GRANT,
            notice_version=entry.purpose_version,
            notice_hash=purposes.notice_hash_of(conn, purpose, entry.purpose_version),
            capture=consents.Capture(
                Source.EMAIL,
                ActorType.CUSTOMER,
                None,
                None,
                confirmed_at,
                {"method": "double-opt-in", "confirms": row.request_record, "by": row.kind},
            ),
            current=current,
        )
        store.mark_confirmed(conn, hashed, now)
    return Outcome.CONFIRMED
