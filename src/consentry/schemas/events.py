"""Purchase and behaviour events, on the wire."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from consentry.domain.events import EventType
from consentry.schemas.common import BoundedObject, Strict


class EventIn(Strict):
    """One event; ``id`` (the sender's own) makes re-sending it harmless."""

    id: str | None = Field(default=None, min_length=1, max_length=200, examples=["till-7-0042"])
    customer: str = Field(max_length=40, examples=["cus_4x8k2m9q1w3e5r7t9y1u3i5o7p"])
    type: EventType
    time: AwareDatetime = Field(examples=["2026-11-22T14:03:00Z"])
    sku: str | None = Field(default=None, max_length=64, examples=["RUN-SHOE-42"])
    category: str | None = Field(default=None, max_length=200, examples=["sport/running/shoes"])
    quantity: int | None = Field(default=None, ge=1, le=100_000)
    price: float | None = Field(default=None, ge=0, le=1_000_000, examples=[89.99])
    store: str | None = Field(default=None, max_length=200, examples=["store-01-london"])


class EventBatch(Strict):
    events: list[BoundedObject] = Field(
        min_length=1,
        max_length=10_000,
        description="Up to 10,000 events; each is checked on its own (see EventIn).",
    )


class EventError(BaseModel):
    index: int
    reason: str


class EventsAccepted(BaseModel):
    accepted: int
    duplicates: int = Field(description="Events whose id was sent before: kept once.")
    errors: list[EventError]
    flagged: list[EventError] = Field(
        default_factory=list,
        description="Events kept, whose category contradicts the catalogue's for their SKU: "
        "the catalogue's category is the one used.",
    )
    notifications: int = Field(
        default=0, description="Notifications the real-time triggers recorded for these events."
    )


class EventOut(BaseModel):
    id: str
    type: str
    time: str
    sku: str | None
    category: str | None
    quantity: int | None
    price: float | None
    store: str | None
    excluded: bool = Field(description="The customer said: don't use this (a gift, say).")
