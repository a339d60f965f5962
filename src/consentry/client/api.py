"""The calls of the Consentry API, written once for both clients.

Each method builds a :class:`Call` and hands it to ``_send``, which the synchronous client runs
at once and the asynchronous one returns as an awaitable; ``Api[R]`` is generic over that.
Writes carry an Idempotency-Key (a fresh one unless given), so every call may be retried.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

R = TypeVar("R")
JSON = dict[str, Any]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    json: Any = None
    idempotency_key: str | None = None
    # True for writes: they get an Idempotency-Key (given or fresh), which makes retrying safe.
    write: bool = False


def _p(value: str) -> str:
    return quote(value, safe="")


def _clean(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class Api(ABC, Generic[R]):
    @abstractmethod
    def _send(self, call: Call) -> R: ...

    # -- purposes and notices
    def list_purposes(self, *, after: str | None = None, limit: int = 100) -> R:
        return self._send(Call("GET", "/v1/purposes", _clean({"after": after, "limit": limit})))

    def get_purpose(self, purpose_id: str) -> R:
        return self._send(Call("GET", f"/v1/purposes/{_p(purpose_id)}"))

    def create_purpose(self, purpose: JSON, *, idempotency_key: str | None = None) -> R:
        return self._send(
            Call("POST", "/v1/purposes", json=purpose, idempotency_key=idempotency_key, write=True)
        )

    def update_purpose(
        self, purpose_id: str, changes: JSON, *, idempotency_key: str | None = None
    ) -> R:
        return self._send(
            Call(
                "PUT",
                f"/v1/purposes/{_p(purpose_id)}",
                json=changes,
                idempotency_key=idempotency_key,
                write=True,
            )
        )

    # -- customers
    def create_customer(
        self, customer: JSON | None = None, *, idempotency_key: str | None = None
    ) -> R:
        return self._send(
            Call(
                "POST",
                "/v1/customers",
                json=customer or {},
                idempotency_key=idempotency_key,
                write=True,
            )
        )

    def lookup_customer(self, **identifiers: str) -> R:
        """By exactly one of email, loyalty_card, phone — or name and postcode together."""
        return self._send(Call("POST", "/v1/customers/lookup", json=identifiers))

    def get_customer(self, customer_id: str) -> R:
        return self._send(Call("GET", f"/v1/customers/{_p(customer_id)}"))

    def erase_customer(self, customer_id: str) -> R:
        return self._send(Call("DELETE", f"/v1/customers/{_p(customer_id)}"))

    def export_customer(self, customer_id: str) -> R:
        return self._send(Call("GET", f"/v1/customers/{_p(customer_id)}/export"))

    def restrict(self, customer_id: str, restricted: bool = True) -> R:
        action = "restrict" if restricted else "unrestrict"
        return self._send(Call("POST", f"/v1/customers/{_p(customer_id)}/{action}", write=True))

    def preference_link(self, customer_id: str) -> R:
        return self._send(
            Call("POST", f"/v1/customers/{_p(customer_id)}/preference-link", write=True)
        )

    # -- consent
    def record_consent(
        self, customer_id: str, change: JSON, *, idempotency_key: str | None = None
    ) -> R:
        """Grant or withdraw (``change`` as in the contract: purpose, channel, action,
        notice_version, source, actor, …)."""
        return self._send(
            Call(
                "POST",
                f"/v1/customers/{_p(customer_id)}/consents",
                json=change,
                idempotency_key=idempotency_key,
                write=True,
            )
        )

    def withdraw_all(
        self, customer_id: str, capture: JSON, *, idempotency_key: str | None = None
    ) -> R:
        return self._send(
            Call(
                "POST",
                f"/v1/customers/{_p(customer_id)}/consents/withdraw-all",
                json=capture,
                idempotency_key=idempotency_key,
                write=True,
            )
        )

    def consents(self, customer_id: str) -> R:
        return self._send(Call("GET", f"/v1/customers/{_p(customer_id)}/consents"))

    def history(self, customer_id: str, *, after: str | None = None, limit: int = 100) -> R:
        return self._send(
            Call(
                "GET",
                f"/v1/customers/{_p(customer_id)}/consents/history",
                _clean({"after": after, "limit": limit}),
            )
        )

    def check(self, customer: str, purpose: str, channel: str | None = None) -> R:
        """May the purpose be pursued (on this channel) for this customer now?"""
        return self._send(
            Call(
                "GET",
                "/v1/check",
                _clean({"customer": customer, "purpose": purpose, "channel": channel}),
            )
        )

    def check_batch(self, customers: list[str], purpose: str, channel: str | None = None) -> R:
        body = _clean({"customers": customers, "purpose": purpose, "channel": channel})
        return self._send(Call("POST", "/v1/check/batch", json=body))

    # -- evidence
    def head(self) -> R:
        return self._send(Call("GET", "/v1/evidence/head"))

    def inclusion_proof(self, record_id: str) -> R:
        return self._send(Call("GET", f"/v1/evidence/records/{_p(record_id)}/proof"))

    def jwks(self) -> R:
        return self._send(Call("GET", "/.well-known/jwks.json"))

    # -- apps
    def create_app(self, name: str, scopes: list[str], purposes: list[str]) -> R:
        body = {"name": name, "scopes": scopes, "purposes": purposes}
        return self._send(Call("POST", "/v1/apps", json=body, write=True))

    def revoke_app(self, app_id: str) -> R:
        return self._send(Call("DELETE", f"/v1/apps/{_p(app_id)}"))

    # -- events, questions, offers
    def send_events(self, events: list[JSON]) -> R:
        return self._send(Call("POST", "/v1/events", json={"events": events}))

    def next_question(
        self, customer_id: str, channel: str, *, visit: str | None = None, lang: str | None = None
    ) -> R:
        params = _clean({"channel": channel, "visit": visit, "lang": lang})
        return self._send(Call("GET", f"/v1/customers/{_p(customer_id)}/next-question", params))

    def answer(self, customer_id: str, answer: JSON, *, idempotency_key: str | None = None) -> R:
        return self._send(
            Call(
                "POST",
                f"/v1/customers/{_p(customer_id)}/answers",
                json=answer,
                idempotency_key=idempotency_key,
                write=True,
            )
        )

    def decide(
        self, customer_id: str, channel: str, *, context: JSON | None = None, limit: int = 3
    ) -> R:
        """Offers for this channel and context, each with its reasons."""
        body = {"channel": channel, "context": context or {}, "limit": limit}
        return self._send(Call("POST", f"/v1/customers/{_p(customer_id)}/decisions", json=body))

    # -- the change feed, webhooks, erasures
    def changes(self, *, after: str | None = None, limit: int = 1000, wait: float = 0) -> R:
        return self._send(
            Call(
                "GET", "/v1/changes", _clean({"after": after, "limit": limit, "wait": wait or None})
            )
        )

    def create_webhook(
        self, url: str, *, types: list[str] | None = None, purposes: list[str] | None = None
    ) -> R:
        body = _clean({"url": url, "types": types, "purposes": purposes})
        return self._send(Call("POST", "/v1/webhooks", json=body, write=True))

    def webhook_deliveries(self, endpoint_id: str, *, status: str | None = None) -> R:
        return self._send(
            Call("GET", f"/v1/webhooks/{_p(endpoint_id)}/deliveries", _clean({"status": status}))
        )

    def acknowledge_erasure(self, erasure_id: str) -> R:
        return self._send(Call("POST", f"/v1/erasures/{_p(erasure_id)}/ack", write=True))
