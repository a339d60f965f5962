"""Issue 25: "this identifier's consents" in one call — POST /v1/customers/lookup with
"include": ["consents"] answers the id and the states the caller's purposes allow, logged once
in the customer's access log, and needs consents:read as well as customers:read."""

from __future__ import annotations

from fastapi.testclient import TestClient

from consentry.services.hub import Hub
from tests.helpers import change, make_customer, make_purpose, new_app


def _as(client: TestClient, key: str) -> TestClient:
    other = TestClient(client.app)
    other.headers["Authorization"] = f"Bearer {key}"
    return other


def test_one_call_answers_the_id_and_the_consents(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    make_purpose(client, id="profiling", title="Profiling", description="From what you buy.")
    cid = make_customer(client, identifiers={"email": "ann@example.com"})
    assert change(client, cid).status_code == 201
    _, crm = new_app(client, ["customers:read", "consents:read"], ["newsletter"])
    body = {"email": "Ann@Example.com", "include": ["consents"]}
    answer = _as(client, crm).post("/v1/customers/lookup", json=body)
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["id"] == cid
    separate = _as(client, crm).get(f"/v1/customers/{cid}/consents").json()
    assert got["consents"] == separate["consents"]  # the same states, the caller's purposes only
    assert {c["purpose"] for c in got["consents"]} == {"newsletter"}
    granted = [c for c in got["consents"] if c["channel"] == "email"]
    assert granted[0]["status"] == "granted"
    # Without include: the contract's answer, unchanged.
    plain = _as(client, crm).post("/v1/customers/lookup", json={"email": "ann@example.com"})
    assert plain.json() == {"id": cid}
    # Logged, once per look-up, naming what was read.
    hub.access.flush()
    export = client.get(f"/v1/customers/{cid}/export").json()
    logged = [e for e in export["access_log"] if e["action"] == "lookup"]
    assert len(logged) == 2
    assert sorted(map(tuple, (e["fields"] for e in logged))) == [("email",), ("email", "consents")]


def test_consents_need_consents_read_and_a_known_include(client: TestClient) -> None:
    make_purpose(client)
    make_customer(client, identifiers={"email": "ann@example.com"})
    _, reader = new_app(client, ["customers:read"], ["*"])
    body = {"email": "ann@example.com", "include": ["consents"]}
    assert _as(client, reader).post("/v1/customers/lookup", json=body).status_code == 403
    bad = client.post("/v1/customers/lookup", json={**body, "include": ["answers"]})
    assert bad.status_code == 422
    nobody = client.post("/v1/customers/lookup", json={**body, "email": "x@example.com"})
    assert nobody.status_code == 404
