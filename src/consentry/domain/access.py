"""Apps, scopes and purpose binding: who may ask what."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from consentry.domain.errors import Forbidden, InvalidInput


class Scope(StrEnum):
    ADMIN = "admin"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    CONSENTS_READ = "consents:read"
    CONSENTS_WRITE = "consents:write"
    PREFERENCES_READ = "preferences:read"
    PREFERENCES_WRITE = "preferences:write"
    EVENTS_WRITE = "events:write"
    DECISIONS_READ = "decisions:read"
    SUBJECTS_MANAGE = "subjects:manage"
    WEBHOOKS_MANAGE = "webhooks:manage"
    # The whole evidence log names who granted what, sensitive purposes included.
    EVIDENCE_READ = "evidence:read"
    # Granting a sensitive purpose: only apps that speak for the customer themself.
    CONSENTS_SENSITIVE = "consents:sensitive"
    # Prometheus's scrape of GET /metrics: counts and backlogs, no personal data.
    METRICS_READ = "metrics:read"


ALL_PURPOSES = "*"


@dataclass(frozen=True)
class Caller:
    """The authenticated app behind a request."""

    app_id: str
    name: str
    scopes: frozenset[str]
    purposes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return Scope.ADMIN.value in self.scopes

    def has(self, scope: Scope) -> bool:
        return self.is_admin or scope.value in self.scopes

    def require(self, scope: Scope) -> None:
        if not self.has(scope):
            raise Forbidden(f"this key lacks the scope {scope.value!r}")

    def may_use(self, purpose: str) -> bool:
        return self.is_admin or ALL_PURPOSES in self.purposes or purpose in self.purposes

    def require_purpose(self, purpose: str) -> None:
        if not self.may_use(purpose):
            raise Forbidden(f"this app is not bound to the purpose {purpose!r}")


def validate_scopes(scopes: list[str]) -> tuple[str, ...]:
    known = {s.value for s in Scope}
    unknown = [s for s in scopes if s not in known]
    if unknown:
        raise InvalidInput(
            f"unknown scope {unknown[0]!r}; scopes are {', '.join(sorted(known))}",
            [{"loc": ["scopes"], "msg": f"unknown scope {s!r}"} for s in unknown],
        )
    return tuple(dict.fromkeys(scopes))


@dataclass(frozen=True)
class RegisteredApp:
    id: str
    name: str
    scopes: tuple[str, ...]
    purposes: tuple[str, ...]
    created_at: int
    revoked_at: int | None
