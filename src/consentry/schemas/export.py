"""The data export (GET /v1/customers/{id}/export); its JSON Schema is docs/export.schema.json."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from consentry.schemas.events import EventOut


class ExportCustomer(BaseModel):
    id: str
    status: str
    restricted: bool
    created_at: str


class ExportProfile(BaseModel):
    name: str | None
    postcode: str | None
    identifiers: dict[str, str] = Field(
        description="E-mail, phone, loyalty card: as normalised when they were given."
    )


class ExportAccess(BaseModel):
    at: str
    app_id: str
    app_name: str
    purposes: list[str] = Field(description="The purposes the app is bound to ('*': all).")
    action: str = Field(description="lookup, profile or export.")
    fields: list[str]


class ExportStoredAnswer(BaseModel):
    app_id: str
    created_at: str
    status_code: int
    body: dict[str, Any] = Field(
        description="The answer an app's write got, kept 24 h to replay it on a retry."
    )


class ExportReceipt(BaseModel):
    record_id: str
    receipt: str = Field(description="A JWS consent receipt, verifiable with /v1/evidence/jwks.")


class ExportLink(BaseModel):
    created_at: str
    expires_at: str
    used_at: str | None


class ExportSession(BaseModel):
    created_at: str
    expires_at: str


class ExportPreferenceCentre(BaseModel):
    links: list[ExportLink]
    sessions: list[ExportSession]


class ExportDocument(BaseModel):
    """Everything Consentry holds about one customer, with where it came from."""

    format: Literal["consentry-export/1"]
    generated_at: str
    controller: dict[str, str]
    customer: ExportCustomer
    profile: ExportProfile
    consents: list[dict[str, Any]] = Field(
        description="The state of every purpose, as checks see it."
    )
    history: list[dict[str, Any]] = Field(
        description="Every evidence record about the customer, with the openings of its "
        "commitments (who captured it, where, with what proof)."
    )
    receipts: list[ExportReceipt]
    answers: list[dict[str, Any]] = Field(
        description="What the customer told us (and questions they declined), with the "
        "channel, actor, time and expiry of each answer."
    )
    events: list[EventOut] = Field(description="Purchases, visits and other events.")
    points: dict[str, Any] = Field(
        description="Loyalty points: the balance and every entry (earned for answers, redeemed)."
    )
    asking: dict[str, Any] = Field(
        description="Whether we may ask questions ('stop asking me'), and the last one asked."
    )
    decisions: list[dict[str, Any]] = Field(
        description="Every decision about which offers to show the customer: the offers "
        "chosen, each with its reasons (the facts used, their provenance, the consents that "
        "allowed them), or why none was chosen."
    )
    dismissed_offers: list[dict[str, Any]] = Field(
        description="Offers the customer marked as not relevant (never chosen for them again)."
    )
    announced_changes: list[dict[str, Any]] = Field(
        description="What the other apps were told about the customer (change feed and "
        "webhooks): each change's type, purpose and time, without personal data."
    )
    notifications: list[dict[str, Any]] = Field(
        description="Notifications real-time triggers recorded about the customer (for a "
        "store's staff desk, an app push, an e-mail), with the offer and why."
    )
    access_log: list[ExportAccess] = Field(description="Which apps read the customer's data.")
    stored_answers: list[ExportStoredAnswer]
    preference_centre: ExportPreferenceCentre = Field(
        description="Links to the preference centre sent to the customer, and its sessions."
    )
    confirmations: list[dict[str, Any]] = Field(
        description="Double opt-in: each grant that waited for the customer's confirmation, "
        "when its message went out, any reminder, and when it was confirmed."
    )
    submissions: list[dict[str, Any]] = Field(
        description="Forms of the retailer's collection points the customer submitted: the "
        "point, its version and wording, and each box shown with whether it was ticked."
    )
