"""The staff desk through the real app: sign-in and lockout, sessions, CSRF, look-ups that show
the least needed, changes recorded on the customer's behalf, opt-out of everything, receipts."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentry.cli.main import app
from consentry.services import desk
from consentry.services.hub import Hub
from tests.helpers import check, make_purpose
from tests.integration.test_import import point_cli_at

PASSWORD = "correct horse battery"
ANN = {
    "identifiers": {"email": "ann.lee@example.com", "loyalty_card": "6001234"},
    "name": "Ann Lee",
    "postcode": "SW1A 1AA",
}


def _clerk(hub: Hub, username: str = "sam", where: str = "store") -> None:
    desk.add_staff(hub, username, "Sam Kaur", PASSWORD, where, "store-01-london")


def _signed_in(client: TestClient, username: str = "sam") -> tuple[TestClient, str]:
    browser = TestClient(client.app)
    r = browser.post(
        "/desk/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/desk/"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/desk" in cookie
    page = browser.get("/desk/")
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found
    return browser, found.group(1)


def _history(client: TestClient, cid: str) -> list[dict[str, object]]:
    return list(client.get(f"/v1/customers/{cid}/consents/history").json()["records"])


def test_staff_are_added_from_the_command_line(
    hub: Hub, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_cli_at(hub, monkeypatch)
    runner = CliRunner()
    added = runner.invoke(
        app,
        [
            "staff",
            "add",
            "jo",
            "--name",
            "Jo Bloggs",
            "--desk",
            "call_centre",
            "--location",
            "call-centre-leeds",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    assert "added jo (Jo Bloggs, call_centre at call-centre-leeds)" in added.output
    short = runner.invoke(
        app, ["staff", "add", "kim", "--name", "Kim", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 2 and "at least 12 characters" in short.output
    again = runner.invoke(
        app, ["staff", "add", "jo", "--name", "Jo", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert again.exit_code == 2 and "already" in again.output
    assert (
        TestClient(client.app)
        .post("/desk/login", data={"username": "jo", "password": PASSWORD}, follow_redirects=False)
        .status_code
        == 303
    )


def test_wrong_passwords_pause_signing_in(hub: Hub, client: TestClient) -> None:
    _clerk(hub)
    browser = TestClient(client.app)
    for _ in range(desk.FAILURES_PER_IP_AND_USER):
        wrong = browser.post("/desk/login", data={"username": "sam", "password": "guess"})
        assert wrong.status_code == 401 and "check your user name and password" in wrong.text
    # Paused: even the right password is refused (the same answer), until the pause runs out.
    refused = browser.post("/desk/login", data={"username": "sam", "password": PASSWORD})
    assert refused.status_code == 401 and refused.text == wrong.text
    real = hub.clock
    hub.clock = lambda: real() + timedelta(minutes=desk.PAUSE_MINUTES + 1)
    assert (
        browser.post(
            "/desk/login", data={"username": "sam", "password": PASSWORD}, follow_redirects=False
        ).status_code
        == 303
    )
    hub.clock = real
    unknown = browser.post("/desk/login", data={"username": "nobody", "password": PASSWORD})
    assert unknown.status_code == 401  # the same answer as a wrong password


def test_sessions_expire_and_pages_need_one(hub: Hub, client: TestClient) -> None:
    _clerk(hub)
    anonymous = TestClient(client.app)
    assert anonymous.get("/desk/", follow_redirects=False).headers["location"] == "/desk/login"
    browser, _csrf = _signed_in(client)
    real = hub.clock
    hub.clock = lambda: real() + timedelta(minutes=hub.settings.staff_session_minutes + 1)
    assert browser.get("/desk/", follow_redirects=False).status_code == 303
    hub.clock = real


def test_a_clerk_finds_a_customer_and_sees_the_least_needed(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = client.post("/v1/customers", json=ANN).json()["id"]
    _clerk(hub)
    browser, csrf = _signed_in(client)
    found = browser.post(
        "/desk/find",
        data={"csrf": csrf, "name": "ann  LEE", "postcode": "sw1a1aa"},
        follow_redirects=False,
    )
    assert found.status_code == 303 and found.headers["location"] == f"/desk/customers/{cid}"
    page = browser.get(found.headers["location"])
    assert "Ann" in page.text and "a***@example.com" in page.text
    assert "ann.lee@example.com" not in page.text and "Lee" not in page.text
    assert "6001234" not in page.text and "SW1A" not in page.text
    by_card = browser.post(
        "/desk/find", data={"csrf": csrf, "loyalty_card": "6001234"}, follow_redirects=False
    )
    assert by_card.headers["location"] == f"/desk/customers/{cid}"
    nobody = browser.post("/desk/find", data={"csrf": csrf, "email": "x@example.com"})
    assert nobody.status_code == 404
    forged = browser.post("/desk/find", data={"csrf": "forged", "loyalty_card": "6001234"})
    assert forged.status_code == 403
    # The customer can see that the desk looked her up.
    hub.access.flush()
    accesses = client.get(f"/v1/customers/{cid}/export").json()["access_log"]
    assert any(a["app_name"].startswith("staff desk (Sam Kaur") for a in accesses)


def test_a_clerk_records_changes_and_an_opt_out_on_the_customers_behalf(
    hub: Hub, client: TestClient
) -> None:
    make_purpose(client)
    make_purpose(client, id="maternity", title="Baby offers", channels=["email"], sensitive=True)
    cid = client.post("/v1/customers", json=ANN).json()["id"]
    _clerk(hub)
    browser, csrf = _signed_in(client)
    form = {
        "csrf": csrf,
        "purpose": "newsletter",
        "channel": "email",
        "action": "grant",
        "notice_version": "1",
    }
    # A grant first shows the notice to read out, and records nothing until the clerk confirms.
    shown = browser.post(f"/desk/customers/{cid}/consents", data=form, follow_redirects=False)
    assert shown.status_code == 200 and "Read this to the customer" in shown.text
    assert "We e-mail you" in shown.text and 'name="agreed" value="yes"' in shown.text
    assert _history(client, cid) == []
    form["agreed"] = "yes"
    done = browser.post(f"/desk/customers/{cid}/consents", data=form, follow_redirects=False)
    assert done.status_code == 303
    [record] = _history(client, cid)
    assert record["source"] == "store" and record["location"] == "store-01-london"
    assert record["actor"] == {"type": "staff", "id": "sam"}
    assert record["proof"] == {"method": "notice read out by staff"}
    assert check(client, cid)["allowed"] is True
    # Sensitive purposes: no button, and a forged form is refused by the consent rules.
    page = browser.get(f"/desk/customers/{cid}")
    assert "Only the customer can allow this" in page.text
    sensitive = browser.post(
        f"/desk/customers/{cid}/consents",
        data={**form, "purpose": "maternity", "channel": "email"},
    )
    assert sensitive.status_code == 422 and "customer" in sensitive.text
    assert len(_history(client, cid)) == 1
    forged = browser.post(f"/desk/customers/{cid}/consents", data={**form, "csrf": "forged"})
    assert forged.status_code == 403 and len(_history(client, cid)) == 1
    # Opt out of everything: a confirmation, then one step.
    confirm = browser.get(f"/desk/customers/{cid}/opt-out")
    assert "Yes, opt out of everything" in confirm.text
    out = browser.post(f"/desk/customers/{cid}/opt-out", data={"csrf": csrf})
    assert out.status_code == 200 and "Everything is withdrawn." in out.text
    assert check(client, cid)["reason"] == "withdrawn"
    last = _history(client, cid)[-1]
    assert last["action"] == "withdraw" and last["actor"] == {"type": "staff", "id": "sam"}


def test_receipts_print_and_go_by_e_mail(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = client.post("/v1/customers", json=ANN).json()["id"]
    _clerk(hub, where="call_centre")
    browser, csrf = _signed_in(client)
    form = {
        "csrf": csrf,
        "purpose": "newsletter",
        "channel": "email",
        "action": "withdraw",
        "notice_version": "1",
    }
    done = browser.post(f"/desk/customers/{cid}/consents", data=form)
    link = re.search(r'href="(/desk/receipts/[^"]+)"', done.text)
    assert link
    printed = browser.get(link.group(1))
    assert printed.status_code == 200 and "Receipt of a consent change" in printed.text
    assert _history(client, cid)[0]["source"] == "call_centre"
    sent = browser.post(link.group(1) + "/send", data={"csrf": csrf})
    assert "Sent to the customer" in sent.text
    [mail] = list((Path(hub.settings.data_dir) / "outbox").glob("*.eml"))
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ann.lee@example.com"
    [attachment] = list(message.iter_attachments())  # type: ignore[attr-defined]
    assert attachment.get_filename().endswith(".jws")
    assert attachment.get_content().count(b".") == 2
