"""The customer's preference centre through the real app: links, sessions, changes as
evidence, stop-all with undo, GPC, data, download, deletion, link requests, languages."""

from __future__ import annotations

import email
import email.message
import email.policy
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consentry.audit.receipts import verify_bundle
from consentry.services.hub import Hub
from tests.helpers import check, make_purpose, open_link

ANN = {"identifiers": {"email": "ann@example.com"}, "name": "Ann Lee", "postcode": "SW1A 1AA"}


def _customer(client: TestClient, body: dict[str, Any] | None = None) -> str:
    r = client.post("/v1/customers", json=body if body is not None else ANN)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _link(client: TestClient, cid: str) -> str:
    r = client.post(f"/v1/customers/{cid}/preference-link")
    assert r.status_code == 201, r.text
    url = r.json()["url"]
    assert url.startswith("http://127.0.0.1:8000/p/")
    return "/p/" + url.rsplit("/p/", 1)[1]


def _visitor(hub: Hub, client: TestClient, cid: str) -> TestClient:
    """A browser without the API key, signed in to the centre through the customer's link."""
    browser = TestClient(client.app)
    opened = open_link(browser, _link(client, cid))
    assert opened.status_code == 303 and opened.headers["location"] == "/p/"
    cookie = opened.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/p" in cookie
    return browser


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def _history(client: TestClient, cid: str) -> list[dict[str, Any]]:
    return list(client.get(f"/v1/customers/{cid}/consents/history").json()["records"])


def test_a_link_opens_the_centre_once(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = _customer(client)
    link = _link(client, cid)
    browser = TestClient(client.app)
    scanned = TestClient(client.app).get(link)  # a mail scanner's GET uses nothing
    assert scanned.status_code == 200 and 'name="confirm"' in scanned.text
    assert open_link(browser, link).status_code == 303
    page = browser.get("/p/")
    assert page.status_code == 200 and "Newsletter and offers" in page.text
    assert "We e-mail you our offers" in page.text  # the notice text itself
    again = TestClient(client.app).get(link)
    assert again.status_code == 410 and "already used" in again.text
    assert 'action="/p/request"' in again.text  # and kindly offers a new one
    tampered = link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb")
    assert TestClient(client.app).get(tampered).status_code == 404
    assert TestClient(client.app).get("/p/").status_code == 401  # no session, no data


def test_links_and_sessions_expire(hub: Hub, client: TestClient) -> None:
    cid = _customer(client)
    browser = _visitor(hub, client, cid)
    real = hub.clock
    hub.clock = lambda: real() + timedelta(minutes=hub.settings.session_minutes + 1)
    assert browser.get("/p/").status_code == 401
    hub.clock = lambda: real() + timedelta(days=hub.settings.link_days, minutes=1)
    late = _link(client, cid)
    hub.clock = lambda: real() + timedelta(days=2 * hub.settings.link_days + 1)
    expired = TestClient(client.app).get(late)
    assert expired.status_code == 410 and "expired" in expired.text
    hub.clock = real


def test_a_change_is_evidence_from_the_customer_on_the_web(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = _customer(client)
    browser = _visitor(hub, client, cid)
    csrf = _csrf(browser.get("/p/").text)
    form = {
        "csrf": csrf,
        "purpose": "newsletter",
        "channel": "email",
        "action": "grant",
        "notice_version": "1",
    }
    done = browser.post("/p/consents", data=form, follow_redirects=False)
    assert done.status_code == 303
    assert check(client, cid)["allowed"] is True
    [record] = _history(client, cid)
    assert record["source"] == "web" and record["actor"] == {"type": "customer", "id": None}
    page = browser.get(done.headers["location"])
    receipt_link = re.search(r'href="(/p/receipts/[^"]+)"', page.text)
    assert receipt_link and record["id"] in receipt_link.group(1)
    receipt = browser.get(receipt_link.group(1))
    assert receipt.status_code == 200 and receipt.headers["content-type"] == "application/json"
    jwks = client.get("/.well-known/jwks.json").json()
    assert verify_bundle(receipt.json(), jwks, []).ok  # the receipt with its offline proof
    # With htmx, the purpose's section comes back alone, to be swapped in place.
    fragment = browser.post(
        "/p/consents", data={**form, "action": "withdraw"}, headers={"HX-Request": "true"}
    )
    assert fragment.text.lstrip().startswith('<section class="purpose" id="purpose-newsletter"')
    assert check(client, cid)["reason"] == "withdrawn"


def test_forms_without_the_session_csrf_token_change_nothing(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = _customer(client)
    browser = _visitor(hub, client, cid)
    form = {"purpose": "newsletter", "channel": "email", "action": "grant", "notice_version": "1"}
    assert browser.post("/p/consents", data={**form, "csrf": "forged"}).status_code == 403
    assert browser.post("/p/stop-all", data={"csrf": "forged"}).status_code == 403
    assert browser.post("/p/delete", data={"csrf": "forged"}).status_code == 403
    assert browser.post("/p/consents", data=form).status_code == 422  # no token at all
    assert _history(client, cid) == []
    assert client.get(f"/v1/customers/{cid}").status_code == 200


def test_stop_all_then_undo_records_new_grants(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    make_purpose(client, id="partners", title="Partner offers", channels=["post"])
    cid = _customer(client)
    for purpose, channel in (("newsletter", "email"), ("partners", "post")):
        body = {
            "purpose": purpose,
            "channel": channel,
            "action": "grant",
            "notice_version": 1,
            "source": "store",
            "actor": {"type": "staff", "id": "clerk-1"},
        }
        assert client.post(f"/v1/customers/{cid}/consents", json=body).status_code == 201
    browser = _visitor(hub, client, cid)
    csrf = _csrf(browser.get("/p/").text)
    stopped = browser.post("/p/stop-all", data={"csrf": csrf}, follow_redirects=False)
    assert stopped.status_code == 303 and "undo=" in stopped.headers["location"]
    assert check(client, cid)["reason"] == "withdrawn"
    assert check(client, cid, "partners", "post")["reason"] == "withdrawn"
    page = browser.get(stopped.headers["location"])
    assert "We have stopped all marketing." in page.text
    token = re.search(r'name="undo" value="([^"]+)"', page.text)
    assert token
    assert browser.post("/p/undo", data={"csrf": csrf, "undo": token.group(1)}).status_code == 200
    assert check(client, cid)["allowed"] and check(client, cid, "partners", "post")["allowed"]
    actions = [r["action"] for r in _history(client, cid)]
    assert actions == ["grant", "grant", "withdraw", "withdraw", "grant", "grant"]
    # Too late, or tampered: refused, nothing written.
    stopped = browser.post("/p/stop-all", data={"csrf": csrf}, follow_redirects=False)
    late_token = re.search(r"undo=([^&#]+)", stopped.headers["location"])
    assert late_token
    real = hub.clock
    hub.clock = lambda: real() + timedelta(seconds=31)
    late = browser.post("/p/undo", data={"csrf": csrf, "undo": late_token.group(1)})
    hub.clock = real
    assert late.status_code == 409
    forged = browser.post("/p/undo", data={"csrf": csrf, "undo": late_token.group(1) + "x"})
    assert forged.status_code == 409
    assert len(_history(client, cid)) == 8


def test_global_privacy_control_is_honoured_and_recorded(hub: Hub, client: TestClient) -> None:
    make_purpose(client, id="data_sharing", title="Sharing with partners", channels=[], gpc=True)
    make_purpose(client)
    cid = _customer(client)
    for purpose, channel in (("data_sharing", None), ("newsletter", "email")):
        body: dict[str, Any] = {
            "purpose": purpose,
            "action": "grant",
            "notice_version": 1,
            "source": "web",
            "actor": {"type": "customer"},
        }
        if channel:
            body["channel"] = channel
        assert client.post(f"/v1/customers/{cid}/consents", json=body).status_code == 201
    browser = _visitor(hub, client, cid)
    page = browser.get("/p/", headers={"Sec-GPC": "1"})
    assert "Global Privacy Control" in page.text
    assert check(client, cid, "data_sharing", None)["reason"] == "withdrawn"
    assert check(client, cid)["allowed"] is True  # not a sale or sharing purpose
    last = _history(client, cid)[-1]
    assert last["purpose"] == "data_sharing" and last["source"] == "web"
    assert last["proof"]["signal"] == "Sec-GPC: 1"
    browser.get("/p/", headers={"Sec-GPC": "1"})
    assert len(_history(client, cid)) == 3  # honoured once, not on every page


def test_what_we_hold_download_and_delete(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = _customer(client)
    client.post("/v1/customers/lookup", json={"email": "ann@example.com"})
    browser = _visitor(hub, client, cid)
    held = browser.get("/p/data")
    assert held.status_code == 200
    assert "ann@example.com" in held.text and "Ann Lee" in held.text
    assert "admin" in held.text  # the admin app's look-up, in "who looked at your data"
    download = browser.get("/p/download")
    assert download.headers["content-disposition"].startswith("attachment")
    assert download.json()["profile"]["identifiers"] == {"email": "ann@example.com"}
    confirm = browser.get("/p/delete")
    assert "Yes, delete my account" in confirm.text
    gone = browser.post("/p/delete", data={"csrf": _csrf(confirm.text)})
    assert gone.status_code == 200 and "deleted" in gone.text
    assert client.get(f"/v1/customers/{cid}").status_code == 410
    assert browser.get("/p/").status_code == 401


def test_a_session_never_shows_another_customers_data(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    ann = _customer(client)
    bob = _customer(client, {"identifiers": {"email": "bob@example.com"}, "name": "Bob Stone"})
    body = {
        "purpose": "newsletter",
        "channel": "email",
        "action": "grant",
        "notice_version": 1,
        "source": "web",
        "actor": {"type": "customer"},
    }
    bob_record = client.post(f"/v1/customers/{bob}/consents", json=body).json()["record"]["id"]
    browser = _visitor(hub, client, ann)
    for path in ("/p/", "/p/data", "/p/download"):
        text = browser.get(path).text
        assert "bob@example.com" not in text and "Bob Stone" not in text and bob not in text
    assert browser.get(f"/p/receipts/{bob_record}").status_code == 404


def test_asking_for_a_link_by_e_mail(hub: Hub, client: TestClient) -> None:
    cid = _customer(client)
    outbox = Path(hub.settings.data_dir) / "outbox"
    visitor = TestClient(client.app)
    form = visitor.get("/p/request")
    assert form.status_code == 200 and 'type="email"' in form.text
    known = visitor.post("/p/request", data={"email": "ANN@example.com"})
    unknown = visitor.post("/p/request", data={"email": "nobody@example.com"})
    assert known.status_code == unknown.status_code == 200
    assert known.text == unknown.text  # no way to tell who is a customer
    [sent] = list(outbox.glob("*.eml"))
    message = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert message["To"] == "ann@example.com"  # the stored address, not the typed one
    assert isinstance(message, email.message.EmailMessage)
    link = re.search(r"http://127\.0\.0\.1:8000(/p/\S+)", message.get_content())
    assert link
    # Beside it, the same mail as it reads: the whole link on one line, to copy from `cat`.
    readable = sent.with_suffix(".txt").read_text()
    assert "To: ann@example.com" in readable
    assert any(link.group(0) in line for line in readable.splitlines())
    assert open_link(visitor, link.group(1)).status_code == 303
    assert "ann@example.com" in visitor.get("/p/data").text
    assert cid in visitor.get("/p/download").text
    # Three an hour per address, then a polite 429 and no more mail.
    for _ in range(2):
        assert visitor.post("/p/request", data={"email": "ann@example.com"}).status_code == 200
    assert visitor.post("/p/request", data={"email": "ann@example.com"}).status_code == 429
    assert len(list(outbox.glob("*.eml"))) == 3


def test_requests_per_ip_are_limited(hub: Hub, client: TestClient) -> None:
    visitor = TestClient(client.app)
    limit = hub.settings.link_requests_per_ip_per_hour
    for n in range(limit):
        assert visitor.post("/p/request", data={"email": f"x{n}@example.com"}).status_code == 200
    assert visitor.post("/p/request", data={"email": "y@example.com"}).status_code == 429


def test_pages_speak_the_browsers_language_and_switch(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = _customer(client)
    browser = _visitor(hub, client, cid)
    german = browser.get("/p/", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert 'lang="de"' in german.text and "Alle Werbung beenden" in german.text
    english = browser.get("/p/?lang=en", headers={"Accept-Language": "de"})
    assert 'lang="en"' in english.text and "Stop all marketing" in english.text
    assert "consentry_lang=en" in english.headers["set-cookie"]
    remembered = browser.get("/p/", headers={"Accept-Language": "de"})
    assert "Stop all marketing" in remembered.text


def test_a_new_link_for_anyone_from_the_command_line(
    hub: Hub, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`consentry link --card …` (the demo prints it): a fresh link that opens the centre, for a
    customer named by one identifier; a clear error otherwise."""
    from typer.testing import CliRunner

    from consentry.cli.main import app
    from tests.integration.test_import import point_cli_at

    point_cli_at(hub, monkeypatch)
    runner = CliRunner()
    cid = client.post("/v1/customers", json={"identifiers": {"loyalty_card": "6000000042"}}).json()
    made = runner.invoke(app, ["link", "--card", "6000000042"])
    assert made.exit_code == 0, made.output
    url = re.search(r"(http\S+/p/\S+)", made.output)
    assert url and cid["id"] in made.output
    assert (
        open_link(TestClient(client.app), "/p/" + url.group(1).split("/p/")[1]).status_code == 303
    )
    for args, said in (
        (["link", "--card", "6000000099"], "no customer has that loyalty card"),
        (["link"], "exactly one of --card, --email, --phone, --customer"),
        (["link", "--card", "1", "--email", "a@example.com"], "exactly one of"),
    ):
        refused = runner.invoke(app, args)
        assert refused.exit_code == 2 and said in refused.output, refused.output
        assert "Traceback" not in refused.output
    client.delete(f"/v1/customers/{cid['id']}")
    gone = runner.invoke(app, ["link", "--customer", cid["id"]])
    assert gone.exit_code == 2 and "Traceback" not in gone.output, gone.output
