"""Purposes and their notices, on the wire."""

from __future__ import annotations

from pydantic import BaseModel, Field

from consentry.domain.purposes import LegalBasis, Section
from consentry.schemas.common import Page, Strict


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
    section: Section | None = Field(
        default=None,
        description="Where the preference centre shows it: messages (to me), chosen_for_me "
        "(offers chosen from what I said or bought), sharing (with others), services (I use). "
        "Left out: services for a contract or legal obligation, sharing for a gpc purpose, "
        "chosen_for_me for one without channels, else messages.",
    )
    confirmations: dict[str, str] = Field(
        default_factory=dict,
        max_length=11,
        description='Double opt-in: channel (or "*", the whole purpose) -> "email" (text '
        "messages wait for an SMS gateway). A grant on such a channel from the web, an app or a "
        "collection point waits for the address owner's confirmation (status unconfirmed).",
        examples=[{"email": "email"}],
    )
    confirm_days: int = Field(
        default=7, ge=1, le=90, description="Days an unconfirmed grant waits before it expires."
    )


class PurposeUpdate(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, min_length=1, max_length=5000)
    legal_basis: LegalBasis | None = None
    channels: list[str] | None = None
    sensitive: bool | None = None
    gpc: bool | None = None
    expires_after_days: int | None = Field(default=None, ge=1, le=36500)
    section: Section | None = None
    confirmations: dict[str, str] | None = Field(default=None, max_length=11)
    confirm_days: int | None = Field(default=None, ge=1, le=90)
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
    section: Section
    confirmations: dict[str, str]
    confirm_days: int
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


class PurposePage(Page):
    purposes: list[PurposeOut]
