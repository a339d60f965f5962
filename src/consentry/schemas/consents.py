"""Consent changes, their records, histories and checks, on the wire."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from consentry.domain.consent import Action, ActorType, Source
from consentry.schemas.common import MAX_BATCH, BoundedObject, Strict


class Actor(Strict):
    type: ActorType
    id: str | None = Field(default=None, max_length=200, examples=["clerk-17"])


class ConsentChange(Strict):
    purpose: str = Field(max_length=64, examples=["newsletter"])
    channel: str | None = Field(default=None, max_length=16, examples=["email"])
    action: Action
    notice_version: int = Field(ge=1, examples=[1])
    source: Source
    actor: Actor
    location: str | None = Field(default=None, max_length=200, examples=["store-12"])
    captured_at: AwareDatetime | None = Field(default=None, examples=["2026-11-22T14:03:00Z"])
    proof: BoundedObject | None = Field(
        default=None, examples=[{"user_agent": "…", "method": "tablet-signature"}]
    )

    @field_validator("action")
    @classmethod
    def _not_a_request(cls, action: Action) -> Action:
        if action is Action.REQUEST:
            raise ValueError(
                "send grant: Consentry records it as a request itself where the purpose asks "
                "for confirmation"
            )
        return action


class WithdrawAll(Strict):
    source: Source
    actor: Actor
    location: str | None = Field(default=None, max_length=200)
    captured_at: AwareDatetime | None = None
    proof: BoundedObject | None = None


class ConsentEntryOut(BaseModel):
    purpose: str
    channel: str | None
    status: Literal["granted", "withdrawn", "expired", "stale", "not_set", "refused", "unconfirmed"]
    allowed: bool
    since: str | None
    purpose_version: int | None
    record_id: str | None


class ActorOut(BaseModel):
    type: str
    id: str | None


class EvidenceRecordOut(BaseModel):
    """An evidence record: its leaf fields, plus ``seq``, ``leaf_hash`` and the clear values
    behind the commitments (until erasure destroys them)."""

    v: int
    id: str
    seq: int | None
    customer_id: str
    purpose: str
    purpose_version: int
    notice_hash: str
    channel: str | None
    action: str
    source: str
    actor_type: str
    actor_commitment: str | None
    location_commitment: str | None
    proof_commitment: str | None
    captured_at: str
    recorded_at: str
    leaf_hash: str
    actor: ActorOut
    location: str | None
    proof: dict[str, Any] | None


class ConsentChanged(BaseModel):
    record: EvidenceRecordOut
    state: list[ConsentEntryOut]


class WithdrewAll(BaseModel):
    records: list[EvidenceRecordOut]
    consents: list[ConsentEntryOut]


class ConsentList(BaseModel):
    consents: list[ConsentEntryOut]


class History(BaseModel):
    records: list[EvidenceRecordOut]
    next: str | None


class CheckOut(BaseModel):
    allowed: bool
    reason: str
    record_id: str | None
    since: str | None


class BatchCheck(Strict):
    purpose: str = Field(max_length=64)
    channel: str | None = Field(default=None, max_length=16)
    customers: list[str] = Field(max_length=MAX_BATCH)


class BatchCheckOut(BaseModel):
    allowed: list[str]
    denied: list[str]
    unknown: list[str]
