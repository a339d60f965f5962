"""The wire format of the integration API (pydantic models), shared by the API, the importer
and the client. Unknown fields are refused so that typos are reported, not ignored."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from consentry.domain.access import Scope
from consentry.domain.consent import Action, ActorType, Source
from consentry.domain.events import EventType
from consentry.domain.purposes import LegalBasis

MAX_BATCH = 100_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Free-form JSON a caller sends (a proof, an answer, an event): at most this deep and this
# large, so that no value is too deep to hash, store or send on (orjson stops at 254 levels).
MAX_JSON_DEPTH = 16
MAX_JSON_BYTES = 16 * 1024


def _depth(value: Any, limit: int) -> int:
    if isinstance(value, dict | list) and limit <= 0:
        return 1
    if isinstance(value, dict):
        return 1 + max((_depth(v, limit - 1) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v, limit - 1) for v in value), default=0)
    return 0


def bounded_json(value: Any) -> Any:
    if _depth(value, MAX_JSON_DEPTH + 1) > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError as exc:  # an integer past 64 bits, a lone surrogate
        raise ValueError(f"cannot be kept as JSON: {exc}") from None
    if size > MAX_JSON_BYTES:
        raise ValueError(f"larger than {MAX_JSON_BYTES} bytes as JSON")
    return value


BoundedJson = Annotated[Any, AfterValidator(bounded_json)]
BoundedObject = Annotated[dict[str, Any], AfterValidator(bounded_json)]


class AppCreate(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["mailer"])
    scopes: list[Scope] = Field(min_length=1, examples=[["consents:read"]])
    purposes: list[str] = Field(default_factory=list, examples=[["newsletter"]])


class AppOut(BaseModel):
    id: str
    name: str
    scopes: list[str]
    purposes: list[str]
    created_at: str
    revoked_at: str | None = None


class AppCreated(AppOut):
    key: str = Field(description="Shown once; only its hash is stored.")


class PurposeCreate(Strict):
    id: str = Field(min_length=1, max_length=64, examples=["newsletter"])
    title: str = Field(min_length=1, max_length=200, examples=["Newsletter and offers"])
    description: str = Field(
        min_length=1, max_length=5000, examples=["We e-mail you our offers, at most twice a month."]
    )
    legal_basis: LegalBasis = Field(examples=["consent"])
    channels: list[str] = Field(default_factory=list, examples=[["email", "sms", "post"]])
    sensitive: bool = False
    gpc: bool = Field(
        default=False,
        description="A Global Privacy Control signal (Sec-GPC: 1) opts out of this purpose: "
        "mark purposes that sell or share customers' data.",
    )
    expires_after_days: int | None = Field(default=None, ge=1, le=36500, examples=[730])


class PurposeUpdate(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=5000)
    legal_basis: LegalBasis | None = None
    channels: list[str] | None = None
    sensitive: bool | None = None
    gpc: bool | None = None
    expires_after_days: int | None = Field(default=None, ge=1, le=36500)
    reconsent: bool = Field(
        default=False,
        description="With a changed notice: earlier grants read as stale until granted again.",
    )


class PurposeOut(BaseModel):
    id: str
    version: int
    title: str
    description: str
    notice_hash: str
    legal_basis: str
    channels: list[str]
    sensitive: bool
    gpc: bool
    expires_after_days: int | None
    stale_before_version: int
    created_at: str
    updated_at: str


class NoticeOut(BaseModel):
    version: int
    title: str
    description: str
    notice_hash: str
    reconsent: bool
    published_at: str


class PurposeDetail(PurposeOut):
    notices: list[NoticeOut]


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


class WithdrawAll(Strict):
    source: Source
    actor: Actor
    location: str | None = Field(default=None, max_length=200)
    captured_at: AwareDatetime | None = None
    proof: BoundedObject | None = None


class ConsentEntryOut(BaseModel):
    purpose: str
    channel: str | None
    status: Literal["granted", "withdrawn", "expired", "stale", "not_set"]
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


class LookupOut(BaseModel):
    id: str
    consents: list[ConsentEntryOut] | None = Field(
        default=None, description='With "include": ["consents"]: as GET …/consents answers.'
    )


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


class TreeHeadOut(BaseModel):
    size: int
    root_hash: str
    timestamp: str
    signature: str
    key_id: str


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    audit_path: list[str]
    leaf_hash: str
    root_hash: str


class ConsistencyProofOut(BaseModel):
    proof: list[str]


class ReceiptBundleOut(BaseModel):
    receipt: str = Field(description="the consent receipt, a compact JWS (EdDSA)")
    tlog_proof: str = Field(
        description="c2sp.org/tlog-proof: the record's leaf (extra), its index, its inclusion "
        "proof and the signed checkpoint, with cosignatures, that holds it"
    )


class Page(BaseModel):
    next: str | None


class AppPage(Page):
    apps: list[AppOut]


class PurposePage(Page):
    purposes: list[PurposeOut]


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


# -- the data export (GET /v1/customers/{id}/export); its JSON Schema is docs/export.schema.json


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
