"""Double opt-in, end to end on both engines: a web grant of a purpose that asks for
confirmation waits (check: unconfirmed), a mail goes to the stored address, the page's POST
confirms with a second record linked to the first; in person it needs none; unconfirmed
requests expire, with at most one reminder; the feed says consent.changed only when the grant
takes effect."""

from __future__ import annotations

import base64
import json
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from consentry.services import confirmations
from consentry.services.hub import Hub
from tests.helpers import check, make_purpose

WEB_GRANT = {
    "purpose": "newsletter",
    "channel": "email",
    "action": "grant",
    "notice_version": 1,
    "source": "web",
    "actor": {"type": "customer"},
}


def _mails(hub: Hub) -> list[str]:
    outbox = Path(hub.settings.data_dir) / "outbox"
    return sorted(p.read_text() for p in outbox.glob("*.txt")) if outbox.exists() else []


def _wait_for_mail(hub: Hub, count: int) -> list[str]:
    for _ in range(100):  # sent on a thread of its own, after the answer
        found = _mails(hub)
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"{count} mails expected, {len(_mails(hub))} sent")


def _link(mail: str) -> str:
    found = re.search(r"https?://\S+(/c/\S+)", mail)
    assert found, mail
    return found.group(1)


def _history(client: TestClient, cid: str) -> list[dict[str, Any]]:
    return list(client.get(f"/v1/customers/{cid}/consents/history").json()["records"])


def _receipt_status(client: TestClient, record_id: str) -> str:
    """The DPV status word a record's receipt (a compact JWS) carries."""
    jws = client.get(f"/v1/receipts/{record_id}").text
    payload = json.loads(base64.urlsafe_b64decode(jws.split(".")[1] + "=="))
    found = re.search(r'"(Consent[A-Z][a-z]+)"', json.dumps(payload))
    assert found, payload
    return found.group(1)


def _types(client: TestClient) -> list[str]:
    return [c["type"] for c in client.get("/v1/changes?limit=100").json()["changes"]]


def test_a_web_grant_waits_for_the_address_owner(hub: Hub, client: TestClient) -> None:
    make_purpose(client, confirmations={"email": "email"})
    cid = client.post("/v1/customers", json={"identifiers": {"email": "ann@example.com"}}).json()[
        "id"
    ]
    asked = client.post(f"/v1/customers/{cid}/consents", json=WEB_GRANT)
    assert asked.status_code == 201, asked.text
    assert asked.json()["record"]["action"] == "request"
    [state] = [s for s in asked.json()["state"] if s["channel"] == "email"]
    assert state["status"] == "unconfirmed" and state["allowed"] is False
    verdict = check(client, cid)
    assert (verdict["allowed"], verdict["reason"]) == (False, "unconfirmed")
    [mail] = _wait_for_mail(hub, 1)
    assert "ann@example.com" in mail and "Please confirm" in mail
    link = _link(mail)
    hub.outbox.integrate_all()
    assert "consent.requested" in _types(client) and "consent.changed" not in _types(client)
    # A GET (a mail scanner) only shows the page; the customer's POST confirms.
    page = TestClient(client.app).get(link)
    assert page.status_code == 200 and "Yes, I confirm" in page.text
    assert check(client, cid)["reason"] == "unconfirmed"
    done = TestClient(client.app).post(link)
    assert done.status_code == 200 and "Thank you: confirmed" in done.text
    assert check(client, cid)["allowed"] is True and check(client, cid)["reason"] == "granted"
    request, grant = _history(client, cid)
    assert (request["action"], grant["action"]) == ("request", "grant")
    assert grant["proof"] == {"method": "double-opt-in", "confirms": request["id"], "by": "email"}
    assert grant["source"] == "email" and grant["actor"]["type"] == "customer"
    hub.outbox.integrate_all()
    assert _types(client).count("consent.changed") == 1
    again = TestClient(client.app).post(link)
    assert again.status_code == 200 and "Already confirmed" in again.text
    assert len(_history(client, cid)) == 2  # nothing applied twice
    assert _receipt_status(client, request["id"]) == "ConsentRequested"
    assert _receipt_status(client, grant["id"]) == "ConsentGiven"


def test_in_person_and_in_the_centre_no_second_proof(hub: Hub, client: TestClient) -> None:
    make_purpose(client, confirmations={"email": "email"})
    cid = client.post("/v1/customers", json={"identifiers": {"email": "b@example.com"}}).json()
    at_till = {**WEB_GRANT, "source": "store", "actor": {"type": "staff", "id": "clerk-1"}}
    done = client.post(f"/v1/customers/{cid['id']}/consents", json=at_till)
    assert done.json()["record"]["action"] == "grant"
    assert check(client, cid["id"])["allowed"] is True
    assert _mails(hub) == []
    asked = client.post(
        f"/v1/customers/{cid['id']}/consents", json={**WEB_GRANT, "action": "request"}
    )
    assert asked.status_code == 422 and "send grant" in asked.text
    by_text = client.post(
        "/v1/purposes",
        json={
            "id": "texts",
            "title": "Texts",
            "description": "Offers by text.",
            "legal_basis": "consent",
            "channels": ["sms"],
            "confirmations": {"sms": "sms"},
        },
    )
    assert by_text.status_code == 422 and "SMS gateway" in by_text.text


def test_unconfirmed_requests_expire_after_one_reminder(hub: Hub, client: TestClient) -> None:
    make_purpose(client, confirmations={"email": "email"}, confirm_days=4)
    cid = client.post("/v1/customers", json={"identifiers": {"email": "c@example.com"}}).json()
    client.post(f"/v1/customers/{cid['id']}/consents", json=WEB_GRANT)
    [first] = _wait_for_mail(hub, 1)
    real = hub.clock
    try:
        hub.clock = lambda: real() + timedelta(days=1)
        assert confirmations.remind_due(hub) == 0  # not yet half-time
        hub.clock = lambda: real() + timedelta(days=2, minutes=1)
        assert confirmations.remind_due(hub) == 1
        assert confirmations.remind_due(hub) == 0  # one reminder, never two
        mails = _mails(hub)
        assert len(mails) == 2 and any("Reminder:" in m for m in mails)
        assert _link(mails[0]) == _link(mails[1])
        hub.clock = lambda: real() + timedelta(days=4, minutes=1)
        assert check(client, cid["id"])["reason"] == "expired"
        late = TestClient(client.app).post(_link(first))
        assert late.status_code == 410 and "expired" in late.text
        assert [r["action"] for r in _history(client, cid["id"])] == ["request"]
    finally:
        hub.clock = real


def test_a_later_withdrawal_is_not_undone_by_an_old_link(hub: Hub, client: TestClient) -> None:
    make_purpose(client, confirmations={"email": "email"})
    cid = client.post("/v1/customers", json={"identifiers": {"email": "d@example.com"}}).json()
    client.post(f"/v1/customers/{cid['id']}/consents", json=WEB_GRANT)
    [mail] = _wait_for_mail(hub, 1)
    client.post(f"/v1/customers/{cid['id']}/consents", json={**WEB_GRANT, "action": "withdraw"})
    real = hub.clock
    try:  # at half-time: no reminder for what she withdrew
        hub.clock = lambda: real() + timedelta(days=4)
        assert confirmations.remind_due(hub) == 0
    finally:
        hub.clock = real
    late = TestClient(client.app).post(_link(mail))
    assert late.status_code == 409
    assert check(client, cid["id"])["reason"] == "withdrawn"


def test_a_box_left_unticked_is_a_refusal_that_unsubscribes_nobody(
    hub: Hub, client: TestClient
) -> None:
    make_purpose(client)
    cid = client.post("/v1/customers", json={}).json()["id"]
    refused = {**WEB_GRANT, "action": "refuse"}
    client.post(f"/v1/customers/{cid}/consents", json=refused)
    assert check(client, cid)["reason"] == "refused"
    client.post(f"/v1/customers/{cid}/consents", json=WEB_GRANT)
    assert check(client, cid)["allowed"] is True
    # A subscriber who leaves the box unticked at checkout stays subscribed; the refusal is
    # kept as evidence, and announced as what it is.
    again = client.post(f"/v1/customers/{cid}/consents", json=refused)
    assert again.status_code == 201 and check(client, cid)["allowed"] is True
    assert [r["action"] for r in _history(client, cid)] == ["refuse", "grant", "refuse"]
    assert _receipt_status(client, _history(client, cid)[-1]["id"]) == "ConsentRefused"
    hub.outbox.integrate_all()
    assert _types(client).count("consent.refused") == 2


def test_a_request_posted_late_has_only_its_own_time_left(hub: Hub, client: TestClient) -> None:
    """An app posts a web sign-up captured eight days ago: the request has already expired, so
    no link is mailed for it, and none would confirm it."""
    make_purpose(client, confirmations={"email": "email"})
    cid = client.post("/v1/customers", json={"identifiers": {"email": "e@example.com"}}).json()
    captured = (hub.now() - timedelta(days=8)).isoformat()
    late = client.post(
        f"/v1/customers/{cid['id']}/consents", json={**WEB_GRANT, "captured_at": captured}
    )
    assert late.json()["record"]["action"] == "request"
    assert check(client, cid["id"])["reason"] == "expired"
    time.sleep(0.3)  # the route's own sending thread has had its chance
    assert confirmations.send_unsent(hub) == 0 and _mails(hub) == []
