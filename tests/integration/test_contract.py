"""The contract of shared/API.md through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
from fastapi.testclient import TestClient

from consentry.domain.heads import head_payload
from consentry.domain.merkle import verify_consistency, verify_inclusion
from consentry.services.hub import Hub
from consentry.signing import keys_from_jwks, verify_signature
from tests.helpers import GRANT, change, check, make_customer, make_purpose, new_app


def test_health_and_openapi(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/v1/check" in spec["paths"]
    assert "/v1/customers/{customer_id}/consents" in spec["paths"]


def test_apps_keys_scopes_and_revocation(client: TestClient) -> None:
    make_purpose(client)
    make_purpose(client, id="profiling", channels=[])
    app_id, key = new_app(client, ["consents:read"], ["newsletter"])
    listed = client.get("/v1/apps").json()["apps"]
    assert all("key" not in a for a in listed)
    assert app_id in {a["id"] for a in listed}
    cid = make_customer(client)
    auth = {"Authorization": f"Bearer {key}"}
    ok = client.get(
        "/v1/check",
        params={"customer": cid, "purpose": "newsletter", "channel": "email"},
        headers=auth,
    )
    assert ok.status_code == 200
    other = client.get("/v1/check", params={"customer": cid, "purpose": "profiling"}, headers=auth)
    assert other.status_code == 403 and other.headers["content-type"] == "application/problem+json"
    write = client.post(f"/v1/customers/{cid}/consents", headers=auth, json={})
    assert write.status_code == 403
    assert client.get("/v1/apps", headers=auth).status_code == 403
    assert client.delete(f"/v1/apps/{app_id}").status_code == 200
    gone = client.get("/v1/check", params={"customer": cid, "purpose": "newsletter"}, headers=auth)
    assert gone.status_code == 401
    assert client.get("/v1/purposes", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/v1/purposes", headers={"Authorization": ""}).status_code == 401


def test_purposes_versions_and_reconsent(client: TestClient) -> None:
    created = make_purpose(client)
    assert created["version"] == 1 and len(created["notice_hash"]) == 64
    cid = make_customer(client)
    assert change(client, cid).status_code == 201
    same = client.put("/v1/purposes/newsletter", json={"expires_after_days": 365}).json()
    assert same["version"] == 1
    v2 = client.put("/v1/purposes/newsletter", json={"description": "Now weekly."}).json()
    assert v2["version"] == 2 and v2["notice_hash"] != created["notice_hash"]
    assert check(client, cid)["reason"] == "granted"  # earlier grants stay valid
    outdated = change(client, cid, version=1)
    assert outdated.status_code == 409
    v3 = client.put(
        "/v1/purposes/newsletter", json={"description": "Daily!", "reconsent": True}
    ).json()
    assert v3["version"] == 3
    assert check(client, cid) == {**check(client, cid), "allowed": False, "reason": "stale"}
    consents = client.get(f"/v1/customers/{cid}/consents").json()["consents"]
    assert {c["status"] for c in consents if c["channel"] == "email"} == {"stale"}
    assert change(client, cid, version=3).status_code == 201
    assert check(client, cid)["allowed"] is True
    full = client.get("/v1/purposes/newsletter").json()
    assert [n["version"] for n in full["notices"]] == [1, 2, 3]
    assert client.get("/v1/purposes").json()["purposes"][0]["id"] == "newsletter"
    assert client.get("/v1/purposes/nope").status_code == 404


def test_customers_identifiers_and_lookup(client: TestClient) -> None:
    cid = make_customer(
        client,
        identifiers={
            "email": " Ann@Example.COM ",
            "loyalty_card": "6001234",
            "phone": "07700 900123",
        },
        name="Ann  Lee",
        postcode="sw1a 1aa",
    )
    profile = client.get(f"/v1/customers/{cid}").json()
    assert profile["identifiers"] == {
        "email": "ann@example.com",
        "loyalty_card": "6001234",
        "phone": "+447700900123",
    }
    assert profile["postcode"] == "SW1A1AA"
    clash = client.post("/v1/customers", json={"identifiers": {"email": "ANN@example.com"}})
    assert clash.status_code == 409 and cid in clash.json()["detail"]
    for body in (
        {"email": "ann@EXAMPLE.com"},
        {"loyalty_card": "6001234"},
        {"phone": "+44 7700 900123"},
        {"name": "ann lee", "postcode": "SW1A 1AA"},
    ):
        r = client.post("/v1/customers/lookup", json=body)
        assert r.status_code == 200 and r.json() == {"id": cid}, body
    assert client.post("/v1/customers/lookup", json={"email": "bob@example.com"}).status_code == 404
    assert client.post("/v1/customers/lookup", json={"name": "Ann Lee"}).status_code == 422
    make_customer(client, name="Ann Lee", postcode="SW1A1AA")
    assert (
        client.post(
            "/v1/customers/lookup", json={"name": "Ann Lee", "postcode": "SW1A1AA"}
        ).status_code
        == 409
    )
    assert client.get("/v1/customers/cus_missing").status_code == 404
    assert make_customer(client).startswith("cus_")
    _, key = new_app(client, ["consents:read"], ["*"])
    slim = client.get(f"/v1/customers/{cid}", headers={"Authorization": f"Bearer {key}"}).json()
    assert "identifiers" not in slim or slim["identifiers"] is None


def test_grant_withdraw_channels_and_history(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    assert check(client, cid) == {
        "allowed": False,
        "reason": "not_set",
        "record_id": None,
        "since": None,
    }
    granted = change(
        client,
        cid,
        channel=None,
        location="store-12",
        actor={"type": "staff", "id": "clerk-17"},
        source="store",
        proof={"method": "tablet-signature"},
    )
    assert granted.status_code == 201
    record = granted.json()["record"]
    assert record["actor"] == {"type": "staff", "id": "clerk-17"}
    assert record["location"] == "store-12" and record["source"] == "store"
    assert "clerk-17" not in json.dumps({k: record[k] for k in record if k.endswith("commitment")})
    for channel in ("email", "sms", "post"):
        assert check(client, cid, channel=channel)["allowed"] is True
    assert change(client, cid, action="withdraw", channel="sms").status_code == 201
    assert check(client, cid, channel="sms")["reason"] == "withdrawn"
    assert check(client, cid, channel="email")["allowed"] is True
    assert change(client, cid, action="withdraw", channel=None).status_code == 201
    assert check(client, cid, channel="email")["reason"] == "withdrawn"
    assert change(client, cid, channel="post").status_code == 201
    assert check(client, cid, channel="post")["allowed"] is True
    assert check(client, cid, channel="email")["allowed"] is False
    history = client.get(f"/v1/customers/{cid}/consents/history", params={"limit": 2}).json()
    assert len(history["records"]) == 2 and history["next"]
    rest = client.get(
        f"/v1/customers/{cid}/consents/history", params={"after": history["next"]}
    ).json()
    assert len(rest["records"]) == 2 and rest["next"] is None
    actions = [r["action"] for r in history["records"] + rest["records"]]
    assert actions == ["grant", "withdraw", "withdraw", "grant"]


def test_offline_capture_older_than_state_does_not_override(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    assert change(client, cid, action="withdraw").status_code == 201
    yesterday = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    late = change(client, cid, captured_at=yesterday, source="store")
    assert late.status_code == 201  # kept as evidence…
    assert check(client, cid)["reason"] == "withdrawn"  # …but the later withdrawal stands


def test_withdraw_all_sensitive_and_legal_bases(client: TestClient) -> None:
    make_purpose(client)
    make_purpose(client, id="maternity", channels=["email"], sensitive=True)
    make_purpose(client, id="catalogue", channels=["post"], legal_basis="legitimate_interest")
    make_purpose(client, id="orders", channels=["email"], legal_basis="contract")
    cid = make_customer(client)
    staff = change(client, cid, purpose="maternity", actor={"type": "staff", "id": "c1"})
    assert staff.status_code == 422
    assert change(client, cid, purpose="maternity").status_code == 201
    assert change(client, cid, channel="sms").status_code == 201
    assert check(client, cid, "catalogue", "post")["reason"] == "legitimate_interest"
    assert check(client, cid, "orders", "email") == {
        "allowed": True,
        "reason": "contract",
        "record_id": None,
        "since": None,
    }
    r = client.post(
        f"/v1/customers/{cid}/consents/withdraw-all",
        json={"source": "call_centre", "actor": {"type": "staff", "id": "agent-7"}},
    )
    assert r.status_code == 201
    withdrawn = {(x["purpose"], x["channel"]) for x in r.json()["records"]}
    assert withdrawn == {("maternity", "email"), ("newsletter", "sms"), ("catalogue", None)}
    assert check(client, cid, "maternity", "email")["reason"] == "withdrawn"
    assert check(client, cid, "catalogue", "post") == {
        **check(client, cid, "catalogue", "post"),
        "allowed": False,
        "reason": "objected",
    }
    assert check(client, cid, "orders", "email")["allowed"] is True
    again = client.post(
        f"/v1/customers/{cid}/consents/withdraw-all",
        json={"source": "web", "actor": {"type": "customer"}},
    )
    assert again.json()["records"] == []


def test_expiry_follows_the_clock(client: TestClient, hub: Hub) -> None:
    make_purpose(client, expires_after_days=30)
    cid = make_customer(client)
    assert change(client, cid).status_code == 201
    start = datetime.now(UTC)
    hub.clock = lambda: start + timedelta(days=31)
    assert check(client, cid)["reason"] == "expired"
    hub.clock = lambda: start + timedelta(days=29)
    assert check(client, cid)["reason"] == "granted"


def test_batch_check_is_a_suppression_list(client: TestClient) -> None:
    make_purpose(client)
    yes, no, fresh = make_customer(client), make_customer(client), make_customer(client)
    change(client, yes)
    change(client, no)
    change(client, no, action="withdraw")
    r = client.post(
        "/v1/check/batch",
        json={
            "purpose": "newsletter",
            "channel": "email",
            "customers": [yes, no, fresh, "cus_unknown"],
        },
    )
    assert r.json() == {"allowed": [yes], "denied": [no, fresh], "unknown": ["cus_unknown"]}


def test_batch_check_weighs_the_channel_and_the_all_channel_record(client: TestClient) -> None:
    """The later of a channel's own record and an all-channel record is in force, in the batch
    as in the single check; a batch without a channel looks at all-channel records only."""
    make_purpose(client)
    everywhere, stopped, back_on_email, sms_only = (make_customer(client) for _ in range(4))
    change(client, everywhere, channel=None)
    change(client, stopped)
    change(client, stopped, action="withdraw", channel=None)
    change(client, back_on_email, action="withdraw", channel=None)
    change(client, back_on_email)
    change(client, sms_only, channel="sms")
    people = [everywhere, stopped, back_on_email, sms_only, everywhere]
    for channel, allowed in [
        ("email", [everywhere, back_on_email]),
        ("sms", [everywhere, sms_only]),
        (None, [everywhere]),
    ]:
        body = {"purpose": "newsletter", "customers": people}
        if channel:
            body["channel"] = channel
        answer = client.post("/v1/check/batch", json=body).json()
        assert answer["allowed"] == allowed, channel
        assert answer["denied"] == [p for p in people[:4] if p not in allowed], channel
        for person in people[:4]:
            assert check(client, person, channel=channel)["allowed"] == (person in allowed)


def test_idempotency_key(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    headers = {"Idempotency-Key": "k-1"}
    body = GRANT
    first = client.post(f"/v1/customers/{cid}/consents", json=body, headers=headers)
    again = client.post(f"/v1/customers/{cid}/consents", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json() and again.headers.get("Idempotent-Replayed") == "true"
    history = client.get(f"/v1/customers/{cid}/consents/history").json()["records"]
    assert len(history) == 1
    other = client.post(
        f"/v1/customers/{cid}/consents", json={**body, "action": "withdraw"}, headers=headers
    )
    assert other.status_code == 422  # draft-ietf-httpapi-idempotency-key-header
    assert other.json()["type"].endswith("/idempotency-key-reused")


def test_evidence_head_proofs_export_receipts(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    ids = [
        change(client, cid, action=a).json()["record"]["id"]
        for a in ("grant", "withdraw", "grant", "withdraw", "grant")
    ]
    head = client.get("/v1/evidence/head").json()
    assert head["size"] == 5
    jwks = client.get("/.well-known/jwks.json").json()
    key = keys_from_jwks(jwks)[head["key_id"]]
    assert verify_signature(
        key, head_payload(head["size"], head["root_hash"], head["timestamp"]), head["signature"]
    )
    for seq, rid in enumerate(ids):
        proof = client.get(f"/v1/evidence/records/{rid}/proof").json()
        assert proof["leaf_index"] == seq and proof["tree_size"] == 5
        assert verify_inclusion(
            seq,
            5,
            bytes.fromhex(proof["leaf_hash"]),
            [bytes.fromhex(p) for p in proof["audit_path"]],
            bytes.fromhex(head["root_hash"]),
        )
    small = client.get(f"/v1/evidence/records/{ids[0]}/proof", params={"size": 3}).json()
    assert small["tree_size"] == 3
    cons = client.get("/v1/evidence/consistency", params={"from": 3, "to": 5}).json()
    assert verify_consistency(
        3,
        5,
        bytes.fromhex(small["root_hash"]),
        bytes.fromhex(head["root_hash"]),
        [bytes.fromhex(p) for p in cons["proof"]],
    )
    export = client.get("/v1/evidence/export")
    lines = [json.loads(x) for x in export.text.splitlines()]
    assert [x["seq"] for x in lines] == [0, 1, 2, 3, 4]
    assert [x["id"] for x in lines] == ids
    receipt = client.get(f"/v1/receipts/{ids[2]}")
    assert receipt.headers["content-type"].startswith("application/jose")
    public = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(receipt.text, public.key, algorithms=["EdDSA"])
    assert claims["consentReceiptID"] == ids[2] and claims["piiPrincipalId"] == cid
    assert claims["services"][0]["purposes"][0]["status"] == "ConsentGiven"
    assert claims["leaf_hash"] == lines[2]["leaf_hash"]
    assert client.get("/v1/evidence/records/rec_nope/proof").status_code == 404
    header = json.loads(base64.urlsafe_b64decode(receipt.text.split(".")[0] + "=="))
    assert header["alg"] == "EdDSA"


def test_proof_of_a_pending_record_says_retry(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    rid = change(client, cid).json()["record"]["id"]
    pending = client.get(f"/v1/evidence/records/{rid}/proof")
    assert pending.status_code == 409 and pending.headers["Retry-After"] == "1"
