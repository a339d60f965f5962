"""GET /v1/check goes straight to its handler (api/check_path), past FastAPI's routing: every
answer, error or not, must be the one the routed handler gives."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from consentry.api.app import create_app
from consentry.api.check_path import CheckPath
from consentry.services.hub import Hub
from tests.conftest import ADMIN_KEY
from tests.helpers import change, make_customer, make_purpose, new_app


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
    routed_app = create_app(hub, run_sequencer=False)
    routed_app.user_middleware = [m for m in routed_app.user_middleware if m.cls is not CheckPath]
    assert len(routed_app.user_middleware) == len(client.app.user_middleware) - 1  # type: ignore[attr-defined]
    with TestClient(routed_app, raise_server_exceptions=False) as routed:
        direct_answers = [_answer(client, params, key) for params, key in asked]
        routed_answers = [_answer(routed, params, key) for params, key in asked]
    assert direct_answers == routed_answers
    assert [a[0] for a in direct_answers] == [200, 200, 401, 401, 403, 403, 404, 422, 422, 422]
    # Still documented: the route is declared as before.
    assert "get" in client.get("/openapi.json").json()["paths"]["/v1/check"]
