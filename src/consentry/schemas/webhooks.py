"""The wire shapes of webhook endpoints and their deliveries."""

from __future__ import annotations

from pydantic import AnyHttpUrl, BaseModel, Field

from consentry.domain.changes import ChangeType
from consentry.schemas.common import Strict


class EndpointIn(Strict):
    url: AnyHttpUrl = Field(examples=["https://crm.example.com/consentry"])
    description: str = Field(default="", max_length=500)
    types: list[ChangeType] = Field(
        default_factory=list, description="The change types to send (none: all of them)."
    )
    purposes: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="Only changes about these purposes (none: every purpose the app is bound "
        "to). Erasures and restrictions are always sent.",
    )


class EndpointOut(BaseModel):
    id: str
    url: str
    description: str
    types: list[str]
    purposes: list[str]
    created_at: str
    active: bool
    failing_since: str | None
    disabled_at: str | None
    disabled_reason: str | None
    deliveries: dict[str, int] = Field(description="Deliveries by status.")


class EndpointCreated(EndpointOut):
    secret: str = Field(description="The signing secret (whsec_…): shown once, keep it safe.")


class DeliveryOut(BaseModel):
    id: str
    webhook_id: str = Field(description="The webhook-id header: the same on every retry.")
    position: int
    customer: str
    status: str
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    last_duration_ms: int | None
    created_at: str
    delivered_at: str | None
