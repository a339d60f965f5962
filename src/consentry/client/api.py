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

    def lookup_customer(self, *, with_consents: bool = False, **identifiers: str) -> R:
        """By exactly one of email, loyalty_card, phone — or name and postcode together. With
        ``with_consents``, the answer holds the customer's consents too (one call)."""
        body: dict[str, Any] = dict(identifiers)
        if with_consents:
            body["include"] = ["consents"]
        return self._send(Call("POST", "/v1/customers/lookup", json=body))

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

    def inclusion_proof_at(self, record_id: str, size: int) -> R:
        """The record's inclusion proof in the tree of ``size`` leaves (an older head)."""
        return self._send(
            Call("GET", f"/v1/evidence/records/{_p(record_id)}/proof", {"size": size})
        )

    def checkpoint_key(self) -> R:
        """The verifier key of the log's checkpoints (text)."""
        return self._send(Call("GET", "/v1/evidence/checkpoint-key"))

    def consistency_proof(self, first: int, second: int) -> R:
        return self._send(Call("GET", "/v1/evidence/consistency", {"from": first, "to": second}))

    def export_evidence(self) -> R:
        """The whole log as NDJSON text, for `consentry evidence verify`."""
        return self._send(Call("GET", "/v1/evidence/export"))

    def receipt(self, record_id: str) -> R:
        """The signed consent receipt (a compact JWS) of a record."""
        return self._send(Call("GET", f"/v1/receipts/{_p(record_id)}"))

    # -- apps
    def create_app(self, name: str, scopes: list[str], purposes: list[str]) -> R:
        body = {"name": name, "scopes": scopes, "purposes": purposes}
        return self._send(Call("POST", "/v1/apps", json=body, write=True))

    def revoke_app(self, app_id: str) -> R:
        return self._send(Call("DELETE", f"/v1/apps/{_p(app_id)}"))

    def list_apps(self, *, after: str | None = None, limit: int = 100) -> R:
        return self._send(Call("GET", "/v1/apps", _clean({"after": after, "limit": limit})))

    def declare_data_holder(self, app_id: str, holds_customer_data: bool = True) -> R:
        """Whether an erasure must be acknowledged by this app."""
        return self._send(
            Call(
                "PUT",
                f"/v1/apps/{_p(app_id)}/data-holder",
                json={"holds_customer_data": holds_customer_data},
                write=True,
            )
        )

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

    def decline(self, customer_id: str, question_id: str, channel: str, actor: JSON) -> R:
        return self._send(
            Call(
                "POST",
                f"/v1/customers/{_p(customer_id)}/answers/{_p(question_id)}/decline",
                json={"channel": channel, "actor": actor},
                write=True,
            )
        )

    def answers(self, customer_id: str) -> R:
        return self._send(Call("GET", f"/v1/customers/{_p(customer_id)}/answers"))

    def delete_answer(self, customer_id: str, question_id: str) -> R:
        return self._send(
            Call(
                "DELETE",
                f"/v1/customers/{_p(customer_id)}/answers/{_p(question_id)}",
                write=True,
            )
        )

    def asking(self, customer_id: str) -> R:
        return self._send(Call("GET", f"/v1/customers/{_p(customer_id)}/asking"))

    def set_asking(self, customer_id: str, asking: bool) -> R:
        """Stop (False) or resume (True) progressive profiling for this customer."""
        action = "resume-asking" if asking else "stop-asking"
        return self._send(Call("POST", f"/v1/customers/{_p(customer_id)}/{action}", write=True))

    def points(self, customer_id: str, *, after: str | None = None, limit: int = 100) -> R:
        return self._send(
            Call(
                "GET",
                f"/v1/customers/{_p(customer_id)}/points",
                _clean({"after": after, "limit": limit}),
            )
        )

    def redeem_points(self, customer_id: str, points: int, reason: str) -> R:
        return self._send(
            Call(
                "POST",
                f"/v1/customers/{_p(customer_id)}/points/redeem",
                json={"points": points, "reason": reason},
                write=True,
            )
        )

    def customer_events(self, customer_id: str) -> R:
        return self._send(Call("GET", f"/v1/customers/{_p(customer_id)}/events"))

    def exclude_event(self, customer_id: str, event_id: str, excluded: bool = True) -> R:
        """The customer's wish: never use this event for their profile (False takes it back)."""
        action = "exclude" if excluded else "include"
        return self._send(
            Call(
                "POST",
                f"/v1/customers/{_p(customer_id)}/events/{_p(event_id)}/{action}",
                write=True,
            )
        )

    # -- the question bank
    def list_questions(self, *, after: str | None = None, limit: int = 100) -> R:
        return self._send(Call("GET", "/v1/questions", _clean({"after": after, "limit": limit})))

    def get_question(self, question_id: str) -> R:
        return self._send(Call("GET", f"/v1/questions/{_p(question_id)}"))

    def create_question(self, question: JSON) -> R:
        return self._send(Call("POST", "/v1/questions", json=question, write=True))

    def replace_question(self, question_id: str, question: JSON) -> R:
        return self._send(
            Call("PUT", f"/v1/questions/{_p(question_id)}", json=question, write=True)
        )

    def retire_question(self, question_id: str) -> R:
        return self._send(Call("DELETE", f"/v1/questions/{_p(question_id)}", write=True))

    # -- offers, the catalogue, triggers and their notifications
    def decide(
        self, customer_id: str, channel: str, *, context: JSON | None = None, limit: int = 3
    ) -> R:
        """Offers for this channel and context, each with its reasons."""
        body = {"channel": channel, "context": context or {}, "limit": limit}
        return self._send(Call("POST", f"/v1/customers/{_p(customer_id)}/decisions", json=body))

    def decisions(self, customer_id: str) -> R:
        """The customer's logged decisions, newest first, with their reasons."""
        return self._send(Call("GET", f"/v1/customers/{_p(customer_id)}/decisions"))

    def dismiss_offer(self, customer_id: str, offer_id: str, dismissed: bool = True) -> R:
        """ "Not relevant" (False restores the offer)."""
        action = "dismiss" if dismissed else "restore"
        return self._send(
            Call(
                "POST",
                f"/v1/customers/{_p(customer_id)}/offers/{_p(offer_id)}/{action}",
                write=True,
            )
        )

    def replace_catalogue(self, catalogue: JSON) -> R:
        """Categories (with sensitive branches), sensitive topics and products, all at once."""
        return self._send(Call("PUT", "/v1/catalogue", json=catalogue, write=True))

    def categories(self) -> R:
        return self._send(Call("GET", "/v1/catalogue/categories"))

    def list_offers(self, *, after: str | None = None, limit: int = 100) -> R:
        return self._send(Call("GET", "/v1/offers", _clean({"after": after, "limit": limit})))

    def get_offer(self, offer_id: str) -> R:
        return self._send(Call("GET", f"/v1/offers/{_p(offer_id)}"))

    def create_offer(self, offer: JSON) -> R:
        return self._send(Call("POST", "/v1/offers", json=offer, write=True))

    def replace_offer(self, offer_id: str, offer: JSON) -> R:
        return self._send(Call("PUT", f"/v1/offers/{_p(offer_id)}", json=offer, write=True))

    def retire_offer(self, offer_id: str) -> R:
        return self._send(Call("DELETE", f"/v1/offers/{_p(offer_id)}", write=True))

    def replace_triggers(self, triggers: JSON) -> R:
        return self._send(Call("PUT", "/v1/triggers", json=triggers, write=True))

    def triggers(self) -> R:
        return self._send(Call("GET", "/v1/triggers"))

    def notifications(self, notify: str, *, store: str | None = None, limit: int = 100) -> R:
        """Due notifications for a store's desk (notify="desk", store=…) or for push/email."""
        params = _clean({"notify": notify, "store": store, "limit": limit})
        return self._send(Call("GET", "/v1/notifications", params))

    def notification_done(self, notification_id: str) -> R:
        return self._send(Call("POST", f"/v1/notifications/{_p(notification_id)}/done", write=True))

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

    def webhook_deliveries(
        self, endpoint_id: str, *, status: str | None = None, limit: int = 100
    ) -> R:
        return self._send(
            Call(
                "GET",
                f"/v1/webhooks/{_p(endpoint_id)}/deliveries",
                _clean({"status": status, "limit": limit}),
            )
        )

    def list_webhooks(self) -> R:
        return self._send(Call("GET", "/v1/webhooks"))

    def get_webhook(self, endpoint_id: str) -> R:
        return self._send(Call("GET", f"/v1/webhooks/{_p(endpoint_id)}"))

    def delete_webhook(self, endpoint_id: str) -> R:
        return self._send(Call("DELETE", f"/v1/webhooks/{_p(endpoint_id)}", write=True))

    def enable_webhook(self, endpoint_id: str) -> R:
        """Turn a disabled endpoint back on."""
        return self._send(Call("POST", f"/v1/webhooks/{_p(endpoint_id)}/enable", write=True))

    def redeliver(self, endpoint_id: str, delivery_id: str) -> R:
        return self._send(
            Call(
                "POST",
                f"/v1/webhooks/{_p(endpoint_id)}/deliveries/{_p(delivery_id)}/redeliver",
                write=True,
            )
        )

    def erasures(self, *, limit: int = 100) -> R:
        """Erasures still waiting for some app's acknowledgement."""
        return self._send(Call("GET", "/v1/erasures", {"limit": limit}))

    def get_erasure(self, erasure_id: str) -> R:
        return self._send(Call("GET", f"/v1/erasures/{_p(erasure_id)}"))

    def acknowledge_erasure(self, erasure_id: str) -> R:
        return self._send(Call("POST", f"/v1/erasures/{_p(erasure_id)}/ack", write=True))
