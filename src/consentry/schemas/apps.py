"""Apps (integrations) and their keys, on the wire."""

from __future__ import annotations

from pydantic import BaseModel, Field

from consentry.domain.access import Scope
from consentry.schemas.common import Page, Strict


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


class AppPage(Page):
    apps: list[AppOut]
