"""Events: taken in batches (each bad event reported by its index, good ones kept), sealed in
the vault, shown to the customer, excludable by them, exported, erased, expired."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from consentry.domain.clock import rfc3339, rfc3339_micros, to_micros
from consentry.domain.consent import CustomerStatus
from consentry.domain.errors import NotFound
from consentry.domain.events import DETAILS
from consentry.domain.ids import new_id
from consentry.schemas.events import EventIn
from consentry.services import catalogue as catalogue_service
from consentry.services import customers, triggers
from consentry.services.hub import Hub
from consentry.store import customers as customer_store
from consentry.store import events as store

_DETAIL_FIELDS = ("sku", "category", "quantity", "price", "store")


def _reason(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "event"
    return f"{where}: {first['msg']}"


def ingest(hub: Hub, raw: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep every good event (once), report every bad one with its index and reason."""
    errors: list[dict[str, Any]] = []
    good: list[tuple[int, EventIn]] = []
    for index, item in enumerate(raw):
        try:
            event = EventIn.model_validate(item)
        except ValidationError as exc:
            errors.append({"index": index, "reason": _reason(exc)})
            continue
        if event.time < hub.settings.earliest_captured_at:
            errors.append(
                {
                    "index": index,
                    "reason": "time: lies before "
                    f"{rfc3339(hub.settings.earliest_captured_at)}: check the year",
                }
            )
            continue
        good.append((index, event))
    now = hub.now_micros()
    duplicates = 0
    with hub.db.write() as conn:
        known = customer_store.states(conn, sorted({e.customer for _, e in good}))
        keyed = {i: hub.vault.blind("event-id", e.id) for i, e in good if e.id is not None}
        seen = store.known_source_keys(conn, sorted(set(keyed.values())))
        keys = hub.vault.keys(
            sorted(
                {
                    e.customer
                    for _, e in good
                    if known.get(e.customer, ("", False))[0] == CustomerStatus.ACTIVE.value
                }
            )
        )
        rows = []
        new = []
        catalogue = catalogue_service.current(hub, conn).catalogue
        flagged = [
            {
                "index": index,
                "reason": f"category {event.category!r} is not the catalogue's for SKU "
                f"{event.sku!r}: the catalogue's is used",
            }
            for index, event in good
            if catalogue.contradicts(event.sku, event.category)
        ]
        for index, event in good:
            state = known.get(event.customer)
            if state is None:
                errors.append({"index": index, "reason": f"no customer {event.customer!r}"})
                continue
            if state[0] != CustomerStatus.ACTIVE.value or event.customer not in keys:
                errors.append({"index": index, "reason": f"customer {event.customer!r} was erased"})
                continue
            source_key = keyed.get(index)
            if source_key is not None and source_key in seen:
                duplicates += 1
                continue
            if source_key is not None:
                seen.add(source_key)
            details = event.model_dump(include=set(_DETAIL_FIELDS))
            sealed = hub.vault.seal_json(event.customer, DETAILS, details, keys[event.customer])
            event_id = new_id("evt")
            new.append((event_id, event.customer, event.type.value, to_micros(event.time), event))
            rows.append(
                (
                    event_id,
                    event.customer,
                    event.type.value,
                    to_micros(event.time),
                    sealed,
                    source_key,
                    now,
                )
            )
        store.insert_many(conn, rows)
        # In the same transaction: a notification exists exactly when its event does.
        notified = triggers.react(hub, conn, new)
    errors.sort(key=lambda e: e["index"])
    return {
        "accepted": len(rows),
        "duplicates": duplicates,
        "errors": errors,
        "flagged": flagged,
        "notifications": notified,
    }


def of_customer(hub: Hub, customer_id: str, limit: int | None = None) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        customers.require_active(conn, customer_id)
        rows = store.of_customer(conn, customer_id, limit)
    if not rows:
        return []
    key = hub.vault.key(customer_id)
    out = []
    for row in rows:
        details = hub.vault.unseal_json(customer_id, DETAILS, bytes(row.sealed), key)
        out.append(
            {
                "id": row.id,
                "type": row.type,
                "time": rfc3339_micros(row.occurred_at),
                **{name: details.get(name) for name in _DETAIL_FIELDS},
                "excluded": bool(row.excluded),
            }
        )
    return out


def set_excluded(hub: Hub, customer_id: str, event_id: str, excluded: bool) -> dict[str, Any]:
    """The customer's "don't use this for recommendations" (or taking it back)."""
    with hub.db.write() as conn:
        customers.require_active(conn, customer_id)
        if not store.set_excluded(conn, customer_id, event_id, excluded):
            raise NotFound(f"customer {customer_id!r} has no event {event_id!r}")
    return {"id": event_id, "excluded": excluded}
