"""Security review 816681f, findings 1, 6, 7, 13 and 17: preference links go only to stored
addresses, are used only by a person's POST, are limited per customer; identifiers are one
identity in every Unicode spelling; the Secure flag comes from the published URL."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consentry.api.app import create_app
from consentry.services.hub import Hub
from consentry.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.helpers import make_customer, open_link


def wide(text: str) -> str:
    """``text`` in full-width forms (U+FF01..U+FF5E, U+3000 for a space)."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )


VICTIM = {"identifiers": {"email": "victim@bigcorp.com"}, "name": "Vic Tim"}


def _sent(hub: Hub) -> list[email.message.EmailMessage]:
    outbox = Path(hub.settings.data_dir) / "outbox"
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)  # type: ignore[misc]
        for p in sorted(outbox.glob("*.eml"))
    ]


@pytest.mark.parametrize(
    "typed",
    [
        "victim@bigcorp.co m",  # the reported attack: a space the look-up deleted
        "victim @bigcorp.com",
        "victim@bigcorp.com, attacker@evil.example",
        "victim@bigcorp.com attacker@evil.example",
        "Vic <victim@bigcorp.com>",
        "victim@bigcorp.com (comment)",
        '"victim"@bigcorp.com',
        "victim@bigcorp.com\r\nBcc: attacker@evil.example",
        "victim@bigcorp.com\x00",
        "victim@bigcorp.com\u200b",
    ],
)
def test_a_link_is_never_mailed_to_typed_text(hub: Hub, client: TestClient, typed: str) -> None:
    make_customer(client, **VICTIM)
    visitor = TestClient(client.app)
    answer = visitor.post("/p/request", data={"email": typed})
    unknown = visitor.post("/p/request", data={"email": "nobody@example.com"})
    assert answer.status_code == unknown.status_code == 200
    assert answer.text == unknown.text  # the same answer as for nobody
    assert _sent(hub) == []  # and no mail at all


def test_the_link_goes_to_the_stored_address_whatever_the_spelling(
    hub: Hub, client: TestClient
) -> None:
    make_customer(client, **VICTIM)
    visitor = TestClient(client.app)
    for typed in ("  VICTIM@BigCorp.com ", wide("victim@bigcorp.com")):
        assert visitor.post("/p/request", data={"email": typed}).status_code == 200
    sent = _sent(hub)
    assert [m["To"] for m in sent] == ["victim@bigcorp.com"] * 2


def test_the_address_limit_counts_the_customer_not_the_spelling(
    hub: Hub, client: TestClient
) -> None:
    make_customer(client, **VICTIM)
    visitor = TestClient(client.app)
    limit = hub.settings.link_requests_per_hour
    spellings = [
        "victim@bigcorp.com",
        " Victim@bigcorp.com",
        "VICTIM@BIGCORP.COM ",
        wide("victim@bigcorp.com"),
    ]
    answers = [visitor.post("/p/request", data={"email": s}).status_code for s in spellings]
    assert answers == [200] * limit + [429] * (len(spellings) - limit)
    assert len(_sent(hub)) == limit


def test_a_scanners_get_uses_no_link_and_a_second_open_shows_the_centre(
    hub: Hub, client: TestClient
) -> None:
    cid = make_customer(client, **VICTIM)
    path = "/p/" + client.post(f"/v1/customers/{cid}/preference-link").json()["url"].split("/p/")[1]
    for _ in range(3):  # a mail scanner, a link preview, an antivirus: each only looks
        scanner = TestClient(client.app)
        page = scanner.get(path, follow_redirects=False)
        assert page.status_code == 200 and "Continue" in page.text
        assert (
            "set-cookie" not in page.headers
            or "consentry_session" not in page.headers["set-cookie"]
        )
        assert scanner.get("/p/").status_code == 401
    browser = TestClient(client.app)
    assert open_link(browser, path).status_code == 303
    again = browser.get(path, follow_redirects=False)  # opened again from the mail
    assert again.status_code == 303 and again.headers["location"] == "/p/"
    resent = browser.post(path, data={"confirm": "stale"}, follow_redirects=False)  # back, resend
    assert resent.status_code == 303 and resent.headers["location"] == "/p/"
    other = TestClient(client.app)
    assert other.get(path).status_code == 410  # another browser: used


def test_a_post_from_another_site_cannot_use_a_link(hub: Hub, client: TestClient) -> None:
    """Without the cookie the "Continue" page set, a POST (a cross-site form that would sign a
    victim's browser in to the attacker's centre) uses nothing."""
    cid = make_customer(client, **VICTIM)
    path = "/p/" + client.post(f"/v1/customers/{cid}/preference-link").json()["url"].split("/p/")[1]
    forged = TestClient(client.app).post(path, data={"confirm": "x"}, follow_redirects=False)
    assert forged.status_code == 403
    assert open_link(TestClient(client.app), path).status_code == 303  # still unused


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("ann@example.com", wide("ANN@example.com")),
        ("ann@example.com", "  Ann@Example.COM"),
    ],
)
def test_full_width_spellings_are_one_customer(client: TestClient, first: str, second: str) -> None:
    make_customer(client, identifiers={"email": first})
    again = client.post("/v1/customers", json={"identifiers": {"email": second}})
    assert again.status_code == 409


def test_cards_and_postcodes_in_full_width_are_found(client: TestClient) -> None:
    cid = make_customer(
        client,
        identifiers={"loyalty_card": wide("6000 001")},
        name="Ann Lee",
        postcode=wide("SW1A 1AA"),
    )
    found = client.post("/v1/customers/lookup", json={"loyalty_card": "6000001"})
    assert found.json() == {"id": cid}
    pair = client.post("/v1/customers/lookup", json={"name": "ann lee", "postcode": "sw1a1aa"})
    assert pair.json() == {"id": cid}


@pytest.mark.parametrize(
    "identifiers",
    [
        {"email": "ann\x00@example.com"},
        {"email": "ann@exa\u202emple.com"},
        {"loyalty_card": "6000\x00001"},
        {"loyalty_card": "6000\u200b001"},
        {"phone": "+44 20 7946 0958\x07"},
    ],
)
def test_control_characters_are_refused(client: TestClient, identifiers: dict[str, str]) -> None:
    r = client.post("/v1/customers", json={"identifiers": identifiers})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("postcode", ["SW1A\x001AA", "SW1A-1AA", "ŚW1A 1AA"])
def test_postcodes_are_letters_and_digits(client: TestClient, postcode: str) -> None:
    r = client.post("/v1/customers", json={"name": "Ann", "postcode": postcode})
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("public_url", "secure"),
    [("http://127.0.0.1:8000", False), ("https://prefs.shop.example", True)],
)
def test_the_secure_flag_follows_the_published_url_not_the_host_header(
    tmp_path: Path, database_url: str, public_url: str, secure: bool
) -> None:
    settings = Settings(
        data_dir=tmp_path / "d",
        database_url=database_url,
        admin_key=ADMIN_KEY,
        public_url=public_url,
    )
    hub = Hub.open(settings)
    try:
        with TestClient(create_app(hub, run_sequencer=False)) as api:
            api.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            cid = make_customer(api, **VICTIM)
            url = api.post(f"/v1/customers/{cid}/preference-link").json()["url"]
            path = "/p/" + url.split("/p/")[1]
            for host in ("localhost", "prefs.shop.example"):
                browser = TestClient(api.app, base_url=f"http://{host}")
                page = browser.get(path)
                assert ("Secure" in page.headers["set-cookie"]) is secure, host
    finally:
        hub.close()
