"""The wire shapes of the catalogue, offers and decisions."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, field_validator, model_validator

from consentry.domain.events import EventType
from consentry.domain.triggers import Notify
from consentry.schemas.common import Strict

_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
_PATH = r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*){0,9}$"


class OfferChannel(StrEnum):
    """Where an offer is shown or sent (the consent channels of the purposes)."""

    EMAIL = "email"
    SMS = "sms"
    POST = "post"
    PUSH = "push"
    IN_APP = "in_app"
    WEB = "web"
    STORE = "store"


class CategoryIn(Strict):
    path: str = Field(pattern=_PATH, max_length=200, examples=["sport/running/shoes"])
    name: str = Field(min_length=1, max_length=200, examples=["Running shoes"])
    sensitive_topic: str | None = Field(
        default=None,
        pattern=_ID,
        description="Marks this branch sensitive: nothing in it is derived from purchases, "
        "and its offers go only to customers who declared the topic.",
        examples=["maternity"],
    )


class SensitiveTopicIn(Strict):
    id: str = Field(pattern=_ID, examples=["maternity"])
    purpose: str = Field(
        pattern=_ID,
        description="The sensitive purpose the customer must grant.",
        examples=["maternity"],
    )
    question: str = Field(
        pattern=_ID,
        description="The question whose answer declares it.",
        examples=["expecting_baby"],
    )
    answered_with: list[str] = Field(min_length=1, examples=[["yes"]])

    @field_validator("answered_with", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [("yes" if v else "no") if isinstance(v, bool) else v for v in value]
        return value


class ProductIn(Strict):
    sku: str = Field(min_length=1, max_length=64, examples=["RUN-SHOE-42"])
    name: str = Field(min_length=1, max_length=200, examples=["Trail running shoes"])
    category: str = Field(pattern=_PATH, max_length=200, examples=["sport/running/shoes"])
    price: float | None = Field(default=None, ge=0, le=1_000_000)


class CatalogueIn(Strict):
    """The whole catalogue: categories, sensitive topics, products (replaced as a whole)."""

    categories: list[CategoryIn] = Field(min_length=1, max_length=100_000)
    sensitive_topics: list[SensitiveTopicIn] = Field(default_factory=list, max_length=100)
    products: list[ProductIn] = Field(default_factory=list, max_length=1_000_000)


class AnswerMatchIn(Strict):
    question: str = Field(pattern=_ID, examples=["interests"])
    values: list[str] = Field(
        default_factory=list,
        description="Chosen if the answer holds one of these (empty: any answer).",
        examples=[["running"]],
    )

    @field_validator("values", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [("yes" if v else "no") if isinstance(v, bool) else v for v in value]
        return value


class LeadIn(Strict):
    question: str = Field(
        pattern=_ID, description="A date or month question.", examples=["holiday_month"]
    )
    days: int = Field(ge=1, le=365, description="Relevant from this many days before that date.")


class OfferIn(Strict):
    id: str = Field(pattern=_ID, examples=["running-socks-3for2"])
    title: str = Field(min_length=1, max_length=200, examples=["Running socks: 3 for 2"])
    text: str = Field(default="", max_length=1000)
    sku: str | None = Field(default=None, max_length=64, description="A product, or…")
    category: str | None = Field(
        default=None, pattern=_PATH, max_length=200, description="…a category (or both)."
    )
    channels: list[OfferChannel] = Field(min_length=1, examples=[["email", "in_app", "store"]])
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    tags: list[str] = Field(default_factory=list, max_length=20, examples=[["best seller"]])
    sensitive_topic: str | None = Field(default=None, pattern=_ID)
    cap_per_customer: int | None = Field(
        default=None, ge=1, le=1000, description="Chosen for one customer at most this often."
    )
    everyone: bool = Field(
        default=False, description="For everyone (best sellers, the season): no personal data."
    )
    for_answers: list[AnswerMatchIn] = Field(default_factory=list, max_length=20)
    ahead_of: LeadIn | None = None
    stores: list[str] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _target(self) -> OfferIn:
        if self.sku is None and self.category is None:
            raise ValueError("an offer needs a sku or a category")
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError("valid_until must be after valid_from")
        return self


class OfferOut(OfferIn):
    category: str | None
    active: bool


class OfferPage(BaseModel):
    offers: list[OfferOut]
    next: str | None


class CatalogueLoaded(BaseModel):
    categories: int
    sensitive_topics: int
    products: int


class DecisionContext(Strict):
    store: str | None = Field(default=None, max_length=200, examples=["store-01-london"])
    page: str | None = Field(default=None, max_length=500, examples=["/checkout"])
    basket: list[str] = Field(
        default_factory=list, max_length=500, description="SKUs in the basket now."
    )


class DecisionIn(Strict):
    channel: OfferChannel
    context: DecisionContext = Field(default_factory=DecisionContext)
    limit: int = Field(default=3, ge=1, le=20)


class FactOut(BaseModel):
    provenance: str = Field(description="declared, observed or derived")
    text: str
    source: str


class ReasonOut(BaseModel):
    text: str
    weight: float
    facts: list[FactOut]
    allowed_by: list[str] = Field(description="The purposes whose consent allowed these facts.")


class ChosenOffer(BaseModel):
    id: str
    title: str
    text: str
    sku: str | None
    category: str
    tags: list[str]
    score: float
    reasons: list[ReasonOut]


class DecisionOut(BaseModel):
    id: str | None = Field(description="The logged decision (none when nothing was chosen).")
    customer: str
    channel: str
    decided_at: str
    offers: list[ChosenOffer]
    empty_because: str | None = Field(description="Why nothing was chosen, when nothing was.")
    suppressed: dict[str, int] = Field(
        description="How many offers were left out, by cause (dismissed, just_bought, "
        "substitute, offer_cap, no_permitted_reason, same_category)."
    )


class Dismissal(BaseModel):
    customer: str
    offer: str
    dismissed: bool


# -- real-time triggers (domain/triggers.py, docs/triggers.md)

_WINDOW_TEXT = r"^\d{1,4}[mhd]$"


class CountIn(Strict):
    event: EventType
    at_least: int = Field(ge=1, le=1000)
    within: str = Field(pattern=_WINDOW_TEXT, examples=["7d"])
    same_category: bool = True


class UnlessIn(Strict):
    event: EventType
    within: str = Field(pattern=_WINDOW_TEXT, examples=["7d"])
    same_category: bool = True


class ThenIn(Strict):
    notify: Notify
    needs: list[str] = Field(
        default_factory=list,
        description="Purposes the customer must also allow: 'purpose' or 'purpose:channel'.",
        examples=[["location"]],
    )
    next_day_at: int | None = Field(
        default=None, ge=0, le=23, description="Deliver at this hour the next day (local)."
    )
    declared_only: bool = Field(
        default=False, description="Only offers chosen for something the customer told us."
    )


class CapIn(Strict):
    count: int = Field(ge=1, le=1000)
    within: str = Field(pattern=_WINDOW_TEXT, examples=["30d"])


class TriggerIn(Strict):
    id: str = Field(pattern=_ID, examples=["browsed-not-bought"])
    description: str = Field(default="", max_length=500)
    on: EventType
    category: str | None = Field(default=None, pattern=_PATH, max_length=200)
    count: CountIn | None = None
    unless: UnlessIn | None = None
    dedupe: str = Field(default="1d", pattern=_WINDOW_TEXT)
    cap: CapIn | None = Field(
        default=None, description="At most this many notifications to one customer in a window."
    )
    then: list[ThenIn] = Field(min_length=1, max_length=5)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted key "on" as the boolean true; here it can only mean "on".
        if isinstance(value, dict) and True in value and "on" not in value:
            value = {("on" if k is True else k): v for k, v in value.items()}
        return value


class TriggersIn(Strict):
    triggers: list[TriggerIn] = Field(max_length=200)


class NotificationOut(BaseModel):
    id: str
    customer: str
    trigger: str
    notify: str
    store: str | None
    offer: str
    title: str
    reasons: list[ReasonOut]
    created_at: str
    due_at: str
    status: str


class NotificationPage(BaseModel):
    notifications: list[NotificationOut]
