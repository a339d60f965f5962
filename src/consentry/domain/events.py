"""What a customer did, as the retailer's systems report it."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    PURCHASE = "purchase"
    RETURN = "return"
    STORE_VISIT = "store_visit"
    PRODUCT_VIEW = "product_view"
    APP_OPEN = "app_open"


MAX_EVENTS = 10_000
# The vault's field name for an event's sealed details.
DETAILS = "event"
