"""What a consent check asks, and the facts it is answered from."""

from __future__ import annotations

from dataclasses import dataclass

from consentry.domain.access import RegisteredApp
from consentry.domain.consent import ConsentEntry
from consentry.domain.purposes import Purpose

# (key hash, customer id, purpose id, channel or None): what a check asks.
CheckQuestion = tuple[str, str, str, str | None]


@dataclass(frozen=True, slots=True)
class CheckFacts:
    app: RegisteredApp | None
    customer: tuple[str, bool] | None  # (status, restricted)
    purpose: Purpose | None
    entries: list[ConsentEntry]
