"""GET /v1/check and POST /v1/customers/{id}/consents go straight to their handlers
(api/direct), past FastAPI's routing: every answer, error or not, must be the one the routed
handler gives."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from fastapi.testclient import TestClient

from consentry.api.app import create_app
from consentry.api.direct import DirectRoutes
from consentry.services.hub import Hub
from tests.conftest import ADMIN_KEY
from tests.helpers import GRANT, change, make_customer, make_purpose, new_app


@contextmanager
def _routed(hub: Hub) -> Iterator[TestClient]:
    """The same app with every request going FastAPI's way."""
    app = create_app(hub, run_sequencer=False)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not DirectRoutes]
    with TestClient(app, raise_server_exceptions=False) as routed:
        routed.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield routed


def _answer(client: TestClient, params: dict[str, str], key: str | None) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if key else {"Authorization": ""}
    r = client.get("/v1/check", params=params, headers=headers)
    return r.status_code, r.headers.get("content-type"), r.headers.get("retry-after"), r.json()


def test_the_direct_way_answers_as_the_routed_handler(client: TestClient, hub: Hub) -> None:
    make_purpose(client)
    make_purpose(client, id="loyalty", title="Loyalty club", channels=["email"])
    granted, unknown_to_it = make_customer(client), make_customer(client)
    change(client, granted)
    _, reader = new_app(client, ["consents:read"], ["newsletter"])
    _, writer = new_app(client, ["consents:write"], ["newsletter"])
    _, elsewhere = new_app(client, ["consents:read"], ["loyalty"])
    asked = [
        ({"customer": granted, "purpose": "newsletter", "channel": "email"}, ADMIN_KEY),
        ({"customer": unknown_to_it, "purpose": "newsletter"}, reader),
        ({"customer": granted, "purpose": "newsletter"}, None),  # 401
        ({"customer": granted, "purpose": "newsletter"}, "csk_nosuchkey"),  # 401
        ({"customer": granted, "purpose": "newsletter"}, writer),  # 403: scope
        ({"customer": granted, "purpose": "newsletter"}, elsewhere),  # 403: purpose
        ({"customer": "cus_nosuch", "purpose": "newsletter"}, ADMIN_KEY),  # 404
        ({"customer": granted, "purpose": "nosuch"}, ADMIN_KEY),  # 422
        ({"customer": granted, "purpose": "newsletter", "channel": "fax"}, ADMIN_KEY),  # 422
        ({"purpose": "newsletter"}, ADMIN_KEY),  # 422: no customer
    ]
    with _routed(hub) as routed:
        direct_answers = [_answer(client, params, key) for params, key in asked]
        routed_answers = [_answer(routed, params, key) for params, key in asked]
    assert direct_answers == routed_answers
    assert [a[0] for a in direct_answers] == [200, 200, 401, 401, 403, 403, 404, 422, 422, 422]
    # Still documented: the route is declared as before.
    assert "get" in client.get("/openapi.json").json()["paths"]["/v1/check"]


def _posted(
    client: TestClient, customer: str, content: bytes, headers: dict[str, str]
) -> tuple[int, dict[str, str], Any]:
    r = client.post(f"/v1/customers/{customer}/consents", content=content, headers=headers)
    kept = ("content-type", "retry-after", "idempotent-replayed")
    body = r.json()
    if r.status_code == 201:  # a new record each time: its id and times differ
        record = body["record"]
        for name in ("id", "recorded_at", "captured_at", "leaf_hash"):
            record[name] = "…"
        for state in body["state"]:
            state["record_id"] = state["since"] = "…"
    return r.status_code, {h: r.headers[h] for h in kept if h in r.headers}, body


def test_consent_changes_the_direct_way_answer_as_the_routed_handler(
    client: TestClient, hub: Hub
) -> None:
    make_purpose(client)
    customer = make_customer(client)
    _, reader = new_app(client, ["consents:read"], ["newsletter"])
    _, writer = new_app(client, ["consents:write"], ["newsletter"])
    grant = GRANT
    json_type = {"Content-Type": "application/json"}

    def sent(body: Any) -> bytes:
        return body if isinstance(body, bytes) else orjson.dumps(body)

    asked: list[tuple[str, Any, dict[str, str]]] = [
        (customer, grant, json_type),  # 201
        (customer, {**grant, "action": "withdraw", "channel": None}, json_type),  # 201
        (customer, grant, {**json_type, "Authorization": f"Bearer {writer}"}),  # 201
        (customer, grant, {**json_type, "Authorization": f"Bearer {reader}"}),  # 403
        (customer, grant, {**json_type, "Authorization": ""}),  # 401
        (customer, grant, {**json_type, "Authorization": "Bearer csk_nosuchkey"}),  # 401
        ("cus_nosuch", grant, json_type),  # 404
        (customer, {**grant, "notice_version": 2}, json_type),  # 409: outdated notice
        (customer, {**grant, "purpose": "nosuch"}, json_type),  # 422: unknown purpose
        (customer, {**grant, "channel": "fax"}, json_type),  # 422: unknown channel
        (customer, {**grant, "notice_version": "one"}, json_type),  # 422: wrong type
        (customer, {k: v for k, v in grant.items() if k != "action"}, json_type),  # 422
        (customer, b'{"purpose": "newsletter",', json_type),  # 400: malformed JSON
        (customer, b"", json_type),  # 422: no body
        (customer, sent(grant), {"Content-Type": "text/plain"}),  # FastAPI's way: 422
        (customer, grant, {**json_type, "Idempotency-Key": "k-1"}),  # 201, then replayed
    ]
    direct, by_fastapi = [], []
    with _routed(hub) as routed:
        for c, b, h in asked:  # each the direct way, then FastAPI's, on the same state
            direct.append(_posted(client, c, sent(b), h))
            by_fastapi.append(_posted(routed, c, sent(b), h))
    assert direct[:-1] == by_fastapi[:-1]
    assert [a[0] for a in direct] == (
        [201] * 3 + [403, 401, 401, 404, 409] + [422] * 4 + [400, 422, 422, 201]
    )
    # The key sent the direct way first: FastAPI's way replays that answer, unchanged.
    assert by_fastapi[-1][1].pop("idempotent-replayed") == "true"
    assert direct[-1] == by_fastapi[-1]
    # Every change went in, once each: 4 the direct way and 3 FastAPI's way (its last replayed).
    history = client.get(f"/v1/customers/{customer}/consents/history").json()["records"]
    assert len(history) == 7
