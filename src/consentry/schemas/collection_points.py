"""Collection points and their submissions, on the wire."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from consentry.domain.collection_points import Placement
from consentry.schemas.common import Strict
from consentry.schemas.customers import Identifiers

Language = Literal["en", "de"]
Texts = dict[Language, str]


class BoxIn(Strict):
    purpose: str = Field(max_length=64, examples=["newsletter"])
    channel: str | None = Field(default=None, max_length=16, examples=["email"])
    pre_ticked: bool = Field(
        default=False,
        description="Refused when true: a box ticked in advance is not consent.",
    )


class WordingIn(Strict):
    name: str = Field(min_length=1, max_length=16, pattern=r"^[a-z0-9_-]+$", examples=["a"])
    heading: Texts = Field(examples=[{"en": "Our newsletter", "de": "Unser Newsletter"}])
    labels: list[Texts] = Field(
        max_length=12,
        description="One per box, in the boxes' order.",
        examples=[[{"en": "E-mail me offers, twice a month", "de": "Angebote per E-Mail"}]],
    )
    submit: Texts = Field(examples=[{"en": "Sign up", "de": "Anmelden"}])


class PointIn(Strict):
    name: str = Field(min_length=1, max_length=200, examples=["Footer newsletter"])
    placement: Placement = Field(examples=["web"])
    boxes: list[BoxIn] = Field(min_length=1, max_length=12)
    wordings: list[WordingIn] = Field(
        min_length=1,
        max_length=2,
        description="One wording, or two: each form shows one at random (an A/B test).",
    )
    languages: list[Language] = Field(default=["en"], min_length=1, max_length=2)
    origins: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="The web origins whose pages may post to it (CORS), e.g. "
        "https://shop.example.com.",
    )
    identify_by: Literal["email", "phone", "loyalty_card"] | None = Field(
        default=None,
        description="What the form asks the customer for, to find or create them (a web form "
        "has no other way to know who fills it in).",
    )


class BoxOut(BaseModel):
    purpose: str
    channel: str | None
    notice_version: int
    notice_hash: str


class WordingOut(BaseModel):
    name: str
    heading: dict[str, str]
    labels: list[dict[str, str]]
    submit: dict[str, str]


class PointOut(BaseModel):
    id: str
    version: int
    name: str
    placement: str
    boxes: list[BoxOut]
    wordings: list[WordingOut]
    languages: list[str]
    origins: list[str]
    identify_by: str | None
    publishable_key: str
    embed: str
    created_at: str
    updated_at: str


class PointList(BaseModel):
    collection_points: list[PointOut]


class FormBox(BaseModel):
    purpose: str
    channel: str | None
    notice_version: int
    label: str
    notice_title: str
    notice: str


class Form(BaseModel):
    """What a form shows, in one language and one wording: all an embedded form needs."""

    point: str
    version: int
    wording: str
    lang: str
    heading: str
    submit: str
    identify_by: str | None
    identify_label: str | None
    boxes: list[FormBox]
    policy_url: str
    policy_label: str
    thanks: str
    confirm_hint: str


class ChoiceIn(Strict):
    purpose: str = Field(max_length=64)
    channel: str | None = Field(default=None, max_length=16)
    notice_version: int = Field(ge=1)
    chosen: bool


class SubmissionIn(Strict):
    version: int = Field(ge=1, description="The version of the point the form showed.")
    wording: str = Field(max_length=16, examples=["a"])
    lang: Language = "en"
    identifiers: Identifiers | None = None
    customer: str | None = Field(
        default=None,
        max_length=40,
        description="The customer, by id: only with an app key (a till, an app's server).",
    )
    captured_at: AwareDatetime | None = Field(
        default=None, description="When the customer submitted: only with an app key."
    )
    choices: list[ChoiceIn] = Field(min_length=1, max_length=12)


class SubmittedRecord(BaseModel):
    purpose: str
    channel: str | None
    action: str
    record_id: str


class SubmissionOut(BaseModel):
    id: str
    customer: str
    records: list[SubmittedRecord]
    awaiting_confirmation: bool
