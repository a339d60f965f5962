"""Customers, their identifiers, look-ups, restriction and erasure, on the wire."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from consentry.schemas.common import Strict
from consentry.schemas.consents import ConsentEntryOut


class Identifiers(Strict):
    email: str | None = Field(default=None, max_length=320, examples=["ann@example.com"])
    loyalty_card: str | None = Field(default=None, max_length=64, examples=["6001234"])
    phone: str | None = Field(default=None, max_length=40, examples=["+447700900123"])


class CustomerCreate(Strict):
    identifiers: Identifiers = Field(default_factory=Identifiers)
    name: str | None = Field(default=None, min_length=1, max_length=200, examples=["Ann Lee"])
    postcode: str | None = Field(default=None, min_length=1, max_length=16, examples=["SW1A 1AA"])


class CustomerLookup(Strict):
    email: str | None = Field(default=None, max_length=320)
    loyalty_card: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=16)


class CustomerOut(BaseModel):
    id: str
    created_at: str
    status: str
    restricted: bool
    identifiers: dict[str, str] | None = None
    name: str | None = None
    postcode: str | None = None


class CustomerId(BaseModel):
    id: str


class LookupIn(CustomerLookup):
    include: list[Literal["consents"]] = Field(
        default_factory=list,
        max_length=1,
        description="[\"consents\"]: answer the customer's consents too (the caller's purposes "
        "only; needs consents:read as well) — the common question in one call.",
    )


class LookupOut(BaseModel):
    id: str
    consents: list[ConsentEntryOut] | None = Field(
        default=None, description='With "include": ["consents"]: as GET …/consents answers.'
    )


class Restriction(BaseModel):
    id: str
    status: str
    restricted: bool


class ErasureAt(BaseModel):
    id: str = Field(description="GET /v1/erasures/{id}: which apps have deleted their copy.")
    deleted_from: list[Any]
    pending_at: list[Any] = Field(
        description="The apps that hold customer data and must confirm (POST …/ack)."
    )


class Erasure(BaseModel):
    id: str
    status: Literal["erased"]
    erased_at: str
    erasure: ErasureAt
