"""Bad input answers a 4xx problem document and writes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consentry.services.hub import Hub
from consentry.store.tables import consent_state, customers, evidence_records, purposes
from tests.helpers import GRANT, make_customer, make_purpose


def _counts(hub: Hub) -> tuple[int, ...]:
    with hub.db.read() as conn:
        return tuple(
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (evidence_records, consent_state, customers, purposes)
        )


GOOD = GRANT


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({**GOOD, "notice_version": "one"}, 422),
        ({**GOOD, "action": "maybe"}, 422),
        ({**GOOD, "purpose": "nope"}, 422),
        ({**GOOD, "channel": "pigeon"}, 422),
        ({**GOOD, "notice_version": 7, "action": "withdraw"}, 422),
        ({**GOOD, "notice_version": 2}, 409),
        ({**GOOD, "source": "telepathy"}, 422),
        ({**GOOD, "actor": {"type": "robot"}}, 422),
        ({**GOOD, "captured_at": "yesterday"}, 422),
        ({**GOOD, "captured_at": "2999-01-01T00:00:00Z"}, 422),
        ({**GOOD, "surprise": 1}, 422),
        ({k: v for k, v in GOOD.items() if k != "purpose"}, 422),
        ([GOOD], 422),
    ],
)
def test_bad_consent_changes_write_nothing(
    client: TestClient, hub: Hub, body: object, status: int
) -> None:
    make_purpose(client)
    cid = make_customer(client)
    before = _counts(hub)
    r = client.post(f"/v1/customers/{cid}/consents", json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert _counts(hub) == before


def test_malformed_json_and_oversized_body(client: TestClient, hub: Hub) -> None:
    make_purpose(client)
    cid = make_customer(client)
    before = _counts(hub)
    r = client.post(
        f"/v1/customers/{cid}/consents",
        content=b'{"purpose": ',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["title"] == "Malformed JSON"
    big = b'{"purpose": "' + b"x" * (hub.settings.max_body_bytes + 1) + b'"}'
    r = client.post(
        f"/v1/customers/{cid}/consents", content=big, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert _counts(hub) == before


def test_batch_of_100001_ids_is_refused(client: TestClient) -> None:
    make_purpose(client)
    r = client.post(
        "/v1/check/batch",
        json={"purpose": "newsletter", "channel": "email", "customers": ["cus_x"] * 100_001},
    )
    assert r.status_code == 422 and "customers" in r.text


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        (
            "post",
            "/v1/purposes",
            {"id": "Bad Id", "title": "t", "description": "d", "legal_basis": "consent"},
            422,
        ),
        (
            "post",
            "/v1/purposes",
            {"id": "ok", "title": "t", "description": "d", "legal_basis": "whim"},
            422,
        ),
        (
            "post",
            "/v1/purposes",
            {
                "id": "ok",
                "title": "t",
                "description": "d",
                "legal_basis": "consent",
                "channels": ["fax"],
            },
            422,
        ),
        (
            "post",
            "/v1/purposes",
            {"id": "newsletter", "title": "t", "description": "d", "legal_basis": "consent"},
            409,
        ),
        ("put", "/v1/purposes/newsletter", {"reconsent": True}, 422),
        ("put", "/v1/purposes/missing", {"title": "x"}, 404),
        ("post", "/v1/customers", {"identifiers": {"email": "not-an-email"}}, 422),
        ("post", "/v1/customers", {"identifiers": {"phone": "call me"}}, 422),
        ("post", "/v1/customers", {"postcode": "SW1A 1AA!!"}, 422),
        ("post", "/v1/customers", {"identifiers": {"fax": "1"}}, 422),
        ("post", "/v1/customers/lookup", {}, 422),
        ("post", "/v1/customers/lookup", {"email": "a@b.co", "phone": "+447700900123"}, 422),
        ("post", "/v1/apps", {"name": "x", "scopes": ["everything"]}, 422),
        (
            "post",
            "/v1/apps",
            {"name": "x", "scopes": ["consents:read"], "purposes": ["missing"]},
            422,
        ),
        ("post", "/v1/check/batch", {"purpose": "nope", "customers": []}, 422),
        (
            "post",
            "/v1/check/batch",
            {"purpose": "newsletter", "channel": "fax", "customers": []},
            422,
        ),
        ("post", "/v1/customers/cus_missing/consents", GOOD, 404),
        (
            "post",
            "/v1/customers/cus_missing/consents/withdraw-all",
            {"source": "web", "actor": {"type": "customer"}},
            404,
        ),
        ("get", "/v1/check?customer=cus_missing&purpose=newsletter", None, 404),
        ("get", "/v1/check?purpose=newsletter", None, 422),
        ("get", "/v1/apps?limit=5000", None, 422),
        ("get", "/v1/purposes?after=%%%", None, 422),
        ("get", "/v1/evidence/consistency?from=5&to=2", None, 422),
        ("get", "/v1/evidence/records/rec_x/proof?size=-1", None, 422),
        ("delete", "/v1/apps/app_missing", None, 404),
        ("get", "/v1/no-such-route", None, 404),
    ],
)
def test_every_endpoint_refuses_bad_input(
    client: TestClient, hub: Hub, method: str, path: str, body: object, status: int
) -> None:
    make_purpose(client)
    before = _counts(hub)
    r = client.request(method.upper(), path, json=body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert _counts(hub) == before


def test_check_with_unknown_purpose_or_channel(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    assert client.get("/v1/check", params={"customer": cid, "purpose": "nope"}).status_code == 422
    r = client.get("/v1/check", params={"customer": cid, "purpose": "newsletter", "channel": "fax"})
    assert r.status_code == 422 and "fax" in r.json()["detail"]
