"""A member of staff: a clerk at a desk, a console user, or both."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StaffMember:
    id: str
    username: str
    display_name: str
    password_hash: str
    desk: str | None  # none: a console-only account
    location: str | None
    failed_attempts: int
    locked_until: int | None
    disabled_at: int | None
    console_role: str | None = None
