"""Security review 816681f, findings 2, 3, 18 and 19: the evidence export needs evidence:read,
an app sees only its own webhook endpoints, sensitive grants need consents:sensitive, and
console roles that do not manage webhooks never see a receiver's URL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from consentry.services.hub import Hub
from tests.helpers import change, make_customer, make_purpose, new_app
from tests.integration.test_console import _member, _sign_in


def _as(client: TestClient, key: str) -> TestClient:
    other = TestClient(client.app)
    other.headers["Authorization"] = f"Bearer {key}"
    return other


def test_the_evidence_export_needs_evidence_read(client: TestClient) -> None:
    make_purpose(client, id="maternity", channels=["email"], sensitive=True)
    cid = make_customer(client)
    assert change(client, cid, purpose="maternity").status_code == 201
    _, till_key = new_app(client, ["events:write"], ["*"])
    _, reader_key = new_app(client, ["consents:read", "customers:read"], ["*"])
    _, auditor_key = new_app(client, ["evidence:read"], ["*"])
    for key in (till_key, reader_key):
        refused = _as(client, key).get("/v1/evidence/export")
        assert refused.status_code == 403 and "evidence:read" in refused.json()["detail"]
    exported = _as(client, auditor_key).get("/v1/evidence/export")
    assert exported.status_code == 200 and cid in exported.text
    # The head, proofs and the keys stay open to any app, as the contract says.
    till = _as(client, till_key)
    assert till.get("/v1/evidence/head").status_code == 200
    assert TestClient(client.app).get("/.well-known/jwks.json").status_code == 200


def _endpoint(api: TestClient) -> str:
    r = api.post("/v1/webhooks", json={"url": "https://crm.example.com/hook?token=s3cret"})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_an_app_sees_and_manages_only_its_own_webhooks(client: TestClient) -> None:
    _, crm_key = new_app(client, ["webhooks:manage"], ["*"])
    _, other_key = new_app(client, ["webhooks:manage"], ["*"])
    crm, other = _as(client, crm_key), _as(client, other_key)
    mine = _endpoint(crm)
    theirs = _endpoint(other)
    assert [e["id"] for e in crm.get("/v1/webhooks").json()] == [mine]
    assert [e["id"] for e in other.get("/v1/webhooks").json()] == [theirs]
    calls: list[tuple[str, str]] = [
        ("GET", f"/v1/webhooks/{mine}"),
        ("GET", f"/v1/webhooks/{mine}/deliveries"),
        ("POST", f"/v1/webhooks/{mine}/enable"),
        ("POST", f"/v1/webhooks/{mine}/deliveries/whd_x/redeliver"),
        ("DELETE", f"/v1/webhooks/{mine}"),
    ]
    for method, path in calls:
        assert other.request(method, path).status_code == 404, (method, path)
    assert crm.get(f"/v1/webhooks/{mine}").status_code == 200  # not deleted by the other
    assert {e["id"] for e in client.get("/v1/webhooks").json()} == {mine, theirs}  # admin: all
    assert client.delete(f"/v1/webhooks/{theirs}").status_code == 200


def test_sensitive_grants_need_consents_sensitive(client: TestClient) -> None:
    make_purpose(client, id="maternity", channels=["email"], sensitive=True)
    cid = make_customer(client)
    _, crm_key = new_app(client, ["consents:write"], ["*"])
    _, shop_key = new_app(client, ["consents:write", "consents:sensitive"], ["*"])
    claimed = change(_as(client, crm_key), cid, purpose="maternity")  # actor: "customer"
    assert claimed.status_code == 403 and "consents:sensitive" in claimed.json()["detail"]
    assert change(_as(client, shop_key), cid, purpose="maternity").status_code == 201
    staff = change(
        _as(client, shop_key), cid, purpose="maternity", actor={"type": "staff", "id": "c1"}
    )
    assert staff.status_code == 422  # the desk and clerks stay refused
    # Withdrawing never needs it: stopping is always one step.
    assert change(_as(client, crm_key), cid, "withdraw", purpose="maternity").status_code == 201


@pytest.mark.parametrize(
    ("role", "sees_url"),
    [("admin", True), ("privacy_officer", False), ("marketer", False), ("read_only", False)],
)
def test_console_roles_that_do_not_manage_webhooks_see_no_receiver_url(
    hub: Hub, client: TestClient, role: str, sees_url: bool
) -> None:
    _endpoint(client)
    _member(hub, "mia", role)
    browser, _ = _sign_in(client, "mia")
    page: Any = browser.get("/console/webhooks")
    assert page.status_code == 200
    assert ("s3cret" in page.text) is sees_url
    assert "crm.example.com" in page.text  # which receiver it is, without its path


def test_the_admin_key_cannot_revoke_itself(client: TestClient) -> None:
    """Found by schemathesis: the admin revoked its own app and locked every admin out."""
    admin_id = next(a["id"] for a in client.get("/v1/apps").json()["apps"] if a["name"] == "admin")
    refused = client.delete(f"/v1/apps/{admin_id}")
    assert refused.status_code == 409 and "CONSENTRY_ADMIN_KEY" in refused.json()["detail"]
    assert client.get("/v1/apps").status_code == 200
