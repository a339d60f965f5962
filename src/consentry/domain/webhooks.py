"""Webhook delivery rules: which changes an endpoint wants, and when a failed delivery is tried
again — exponential back-off with jitter for up to three days, then the dead-letter list."""

from __future__ import annotations

import random
from dataclasses import dataclass

SECOND = 1_000_000
# The first retries come quickly (a receiver restarting), then ever more slowly.
BACKOFF = [5, 30, 120, 600, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600]


@dataclass(frozen=True)
class Endpoint:
    id: str
    url: str
    types: frozenset[str]  # empty: every type
    purposes: frozenset[str]  # empty: every purpose (within the owning app's binding)
    app_purposes: frozenset[str]  # the owning app's purposes ("*": all)
    active: bool
    app_id: str = ""

    def wants(
        self, change_type: str, purpose: str | None, audience: frozenset[str] | None = None
    ) -> bool:
        """``audience``: the apps a change is addressed to (an erasure reminder goes only to
        the apps that have not confirmed it), or None for every app."""
        if not self.active or (self.types and change_type not in self.types):
            return False
        if audience is not None and self.app_id not in audience:
            return False
        if purpose is None:  # erasure, restriction: every endpoint is told
            return True
        if "*" not in self.app_purposes and purpose not in self.app_purposes:
            return False
        return not self.purposes or purpose in self.purposes


def next_attempt(
    attempts: int, first_attempt_at: int, now: int, retry_for: int, rng: random.Random
) -> int | None:
    """When to try again after ``attempts`` failed tries, or None: give up (dead letter).
    Jitter (±20 %) keeps many failed deliveries from coming back at the same instant."""
    delay = BACKOFF[min(attempts - 1, len(BACKOFF) - 1)] * SECOND
    at = now + int(delay * rng.uniform(0.8, 1.2))
    if at - first_attempt_at > retry_for:
        return None
    return at
