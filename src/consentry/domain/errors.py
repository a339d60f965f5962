"""Domain errors. The API maps each to one problem document; the CLI to one clear message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DomainError(Exception):
    detail: str
    errors: list[dict[str, Any]] = field(default_factory=list)

    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __str__(self) -> str:
        return self.detail


class InvalidInput(DomainError):
    status = 422
    title = "Invalid input"
    slug = "invalid-input"


class UnknownPurpose(InvalidInput):
    title = "Unknown purpose"
    slug = "unknown-purpose"


class UnknownChannel(InvalidInput):
    title = "Unknown channel"
    slug = "unknown-channel"


class SensitivePurposeNeedsCustomer(InvalidInput):
    title = "Only the customer can grant a sensitive purpose"
    slug = "sensitive-purpose"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    slug = "not-found"


class CustomerNotFound(NotFound):
    title = "Customer not found"
    slug = "customer-not-found"


class CustomerErased(DomainError):
    status = 410
    title = "Customer erased"
    slug = "customer-erased"


class Conflict(DomainError):
    status = 409
    title = "Conflict"
    slug = "conflict"


class OutdatedNotice(Conflict):
    title = "Outdated notice"
    slug = "outdated-notice"


class IdentifierTaken(Conflict):
    title = "Identifier already held by another customer"
    slug = "identifier-taken"


class AmbiguousMatch(Conflict):
    title = "More than one customer matches"
    slug = "ambiguous-match"


class IdempotencyKeyReused(InvalidInput):
    """The same key with another body: 422, as draft-ietf-httpapi-idempotency-key-header
    says (the request is wrong, not the server's state)."""

    title = "Idempotency-Key reused with another request"
    slug = "idempotency-key-reused"


class IdempotencyInProgress(Conflict):
    """A request with this key is still being processed: retry shortly (409)."""

    title = "A request with this Idempotency-Key is still being processed"
    slug = "idempotency-in-progress"


class NotYetIntegrated(Conflict):
    title = "Record not yet in the tree"
    slug = "not-yet-integrated"


class Unauthenticated(DomainError):
    status = 401
    title = "Unauthenticated"
    slug = "unauthenticated"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotImplementedYet(DomainError):
    status = 501
    title = "Not implemented"
    slug = "not-implemented"


class TooManyRequests(DomainError):
    status = 429
    title = "Too many requests"
    slug = "rate-limited"
