"""The data export (GDPR art. 15 and 20): everything held about one customer, in one document.

``COVERAGE`` names, for every table that holds rows about a customer, the part of the export
that shows them; a test walks the schema and fails when a table is not covered.
"""

from __future__ import annotations

from typing import Any

import orjson

from consentry.domain.access import Caller
from consentry.domain.clock import rfc3339_micros
from consentry.schemas.export import ExportDocument
from consentry.services import (
    changes,
    consents,
    customers,
    decisions,
    events,
    evidence,
    profiling,
    purposes,
    triggers,
)
from consentry.services.hub import Hub
from consentry.store import access_log as access_store
from consentry.store import collection_points as point_store
from consentry.store import confirmations as confirmation_store
from consentry.store import consents as consent_store
from consentry.store import web as web_store
from consentry.store.tables import idempotency_keys
from consentry.vault.errors import KeyGone

COVERAGE = {
    "customers": ["customer", "profile"],
    "identifiers": ["profile"],
    "consent_state": ["consents"],
    "evidence_records": ["history", "receipts"],
    "evidence_openings": ["history"],
    "access_log": ["access_log"],
    "idempotency_keys": ["stored_answers"],
    "preference_links": ["preference_centre"],
    "web_sessions": ["preference_centre"],
    "events": ["events"],
    "answers": ["answers"],
    "profiling": ["asking"],
    "points_accounts": ["points"],
    "points_entries": ["points"],
    "decisions": ["decisions"],
    "offer_dismissals": ["dismissed_offers"],
    "notifications": ["notifications"],
    "trigger_firings": ["notifications"],
    "outbox": ["announced_changes"],
    "confirmations": ["confirmations"],
    "collection_submissions": ["submissions"],
    "webhook_deliveries": ["announced_changes"],
}

# Tables about a customer that only ever hold rows once the customer is erased (and the export
# answers 410): the erasure and which apps confirmed it, under GET /v1/erasures/{id}.
ONLY_AFTER_ERASURE = {"erasures": "GET /v1/erasures/{id}"}

# What is read by an export, for the access log.
_FIELDS = [
    "profile",
    "identifiers",
    "consents",
    "history",
    "answers",
    "events",
    "points",
    "decisions",
]


def export(
    hub: Hub, caller: Caller, customer_id: str, *, by_customer: bool = False
) -> dict[str, Any]:
    """The export; a read by an app is recorded in the access log, the customer's own is not."""
    hub.access.flush()  # the export shows the reads up to this moment
    with hub.db.read() as conn:
        row = customers.require_active(conn, customer_id)
        clear = customers.opened_profile(hub, conn, row)
        current = consent_store.entries(conn, customer_id)
        all_purposes = purposes.catalogue(hub, conn)
        records = consent_store.history_rows(conn, customer_id, None, 1_000_000)
        accesses = access_store.of_customer(conn, customer_id)
        links = web_store.links_of(conn, customer_id)
        sessions = web_store.sessions_of(conn, customer_id)
        waiting = confirmation_store.of_customer(conn, customer_id)
        submitted = point_store.submissions_of(conn, customer_id)
        stored = list(
            conn.execute(
                idempotency_keys.select().where(idempotency_keys.c.customer_id == customer_id)
            )
        )
    now = hub.now_micros()
    history = []
    receipts = []
    by_id = {p.id: p for p in all_purposes}
    for r in records:
        leaf = orjson.loads(r.leaf)
        openings = consents.opened(hub, customer_id, r.sealed)
        record = consents.record_json(leaf, r.seq, bytes(r.leaf_hash), openings)
        history.append(record)
        # Signed from the row already read: no second read and decryption per record.
        receipt = evidence.signed_receipt(hub, record, r.pk, by_id[leaf["purpose"]])
        receipts.append({"record_id": leaf["id"], "receipt": receipt})
    document = {
        "format": "consentry-export/1",
        "generated_at": rfc3339_micros(now),
        "controller": {
            "name": hub.settings.controller_name,
            "contact": hub.settings.controller_contact,
            "policy": hub.settings.policy_url,
        },
        "customer": {
            "id": row.id,
            "status": row.status,
            "restricted": row.restricted,
            "created_at": rfc3339_micros(row.created_at),
        },
        "profile": clear,
        "consents": [
            entry
            for purpose in all_purposes
            for entry in consents.purpose_state(purpose, current, now, row)
        ],
        "history": history,
        "receipts": receipts,
        "answers": profiling.answers_of(hub, customer_id),
        "events": events.of_customer(hub, customer_id),
        "points": profiling.points(hub, customer_id, limit=None),
        "asking": profiling.asking_export(hub, customer_id),
        "decisions": decisions.decisions_of(hub, customer_id),
        "dismissed_offers": decisions.dismissals_of(hub, customer_id),
        "notifications": triggers.of_customer(hub, customer_id),
        "announced_changes": changes.announced(hub, customer_id),
        "access_log": [
            {
                "at": rfc3339_micros(a.at),
                "app_id": a.app_id,
                "app_name": a.app_name,
                "purposes": list(a.purposes),
                "action": a.action,
                "fields": list(a.fields),
            }
            for a in accesses
        ],
        "stored_answers": [_stored_answer(hub, customer_id, s) for s in stored],
        "preference_centre": {
            "links": [
                {
                    "created_at": rfc3339_micros(link.created_at),
                    "expires_at": rfc3339_micros(link.expires_at),
                    "used_at": rfc3339_micros(link.used_at) if link.used_at else None,
                }
                for link in links
            ],
            "sessions": [
                {
                    "created_at": rfc3339_micros(s.created_at),
                    "expires_at": rfc3339_micros(s.expires_at),
                }
                for s in sessions
            ],
        },
        "confirmations": [
            {
                "purpose": c.purpose,
                "channel": None if c.channel == "*" else c.channel,
                "request_record": c.request_record,
                "by": c.kind,
                "created_at": rfc3339_micros(c.created_at),
                "sent_at": _moment(c.sent_at),
                "reminded_at": _moment(c.reminded_at),
                "confirmed_at": _moment(c.confirmed_at),
                "expires_at": rfc3339_micros(c.expires_at),
            }
            for c in waiting
        ],
        "submissions": [
            {
                "id": s.id,
                "collection_point": s.point_id,
                "version": s.version,
                "wording": s.variant,
                "submitted_at": rfc3339_micros(s.submitted_at),
                "ticked": [flag == "1" for flag in s.chosen],
            }
            for s in submitted
        ],
    }
    if not by_customer:
        hub.access.record(customer_id, caller, "export", _FIELDS)
    return ExportDocument.model_validate(document).model_dump(mode="json")


def _moment(micros: int | None) -> str | None:
    return rfc3339_micros(micros) if micros is not None else None


def _stored_answer(hub: Hub, customer_id: str, row: Any) -> dict[str, Any]:
    try:
        body = hub.vault.unseal_json(customer_id, "idempotent-answer", bytes(row.body))
    except KeyGone:
        body = {}
    return {
        "app_id": row.app_id,
        "created_at": rfc3339_micros(row.created_at),
        "status_code": row.status_code,
        "body": body,
    }
