"""A retailer's own web shop, served from another local origin, embeds a collection point with
one <script> tag; a customer fills it in Chromium. The evidence holds what was shown and what
was chosen, the unticked box as a refusal; the e-mail box waits for confirmation, whose mail
lands in the outbox and whose page, opened and confirmed in the browser, makes the check say
yes. axe-core on the shop's form and on the confirmation pages; no console errors."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.browser.test_centre_in_chromium import CHROMIUM, _axe, _shoot, pytestmark, server
from tests.browser.test_first_ten_minutes_in_chromium import Watch
from tests.conftest import ADMIN_KEY

__all__ = ["pytestmark", "server"]


@pytest.fixture
def shop() -> Iterator[tuple[str, dict[str, str]]]:
    """A web shop of its own origin: one page, whose HTML the test sets."""
    page: dict[str, str] = {"html": ""}

    class Shop(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = page["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", page
    finally:
        httpd.shutdown()


def _setup(base: str, shop_origin: str) -> dict[str, object]:
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    for body in (
        {
            "id": "newsletter",
            "title": "Newsletter and offers",
            "description": "We e-mail you our offers, at most twice a month.",
            "legal_basis": "consent",
            "channels": ["email"],
            "confirmations": {"email": "email"},
        },
        {
            "id": "partner_offers",
            "title": "Offers from our partners",
            "description": "We pass partner offers on to you; we never give them your data.",
            "legal_basis": "consent",
            "channels": ["email"],
        },
    ):
        assert api.post("/v1/purposes", json=body).status_code == 201
    point = api.post(
        "/v1/collection-points",
        json={
            "name": "Footer newsletter",
            "placement": "web",
            "identify_by": "email",
            "origins": [shop_origin],
            "languages": ["en", "de"],
            "boxes": [
                {"purpose": "newsletter", "channel": "email"},
                {"purpose": "partner_offers", "channel": "email"},
            ],
            "wordings": [
                {
                    "name": "a",
                    "heading": {"en": "Our newsletter", "de": "Unser Newsletter"},
                    "labels": [
                        {"en": "E-mail me your offers", "de": "Schicken Sie mir Angebote"},
                        {"en": "And partners' offers", "de": "Und Partnerangebote"},
                    ],
                    "submit": {"en": "Sign up", "de": "Anmelden"},
                }
            ],
        },
    )
    assert point.status_code == 201, point.text
    return dict(point.json())


def test_an_embedded_form_on_another_origin_and_a_double_opt_in(
    server: str, shop: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    shop_origin, page_html = shop
    point = _setup(server, shop_origin)
    page_html["html"] = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ann\'s shop</title>'
        "</head><body><main><h1>Ann's shop</h1><p>Spring is here.</p></main><footer>"
        f"{point['embed']}</footer></body></html>"
    )
    api = httpx.Client(base_url=server, headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        watch = Watch(page)
        page.goto(shop_origin)
        page.get_by_role("group", name="Our newsletter").wait_for()
        _axe(page, "the shop with the embedded form")
        _shoot(page, "collection-point-embedded")
        assert not page.get_by_label("E-mail me your offers").is_checked()  # never pre-ticked
        page.get_by_label("Your e-mail address").fill("ann@example.com")
        page.get_by_label("E-mail me your offers").check()
        page.get_by_role("button", name="Sign up").click()
        page.get_by_text("Almost done: please confirm").wait_for()
        watch.clean("the shop's page")
        assert not page.context.cookies()  # the form needs no cookie of any origin

        cid = api.post("/v1/customers/lookup", json={"email": "ann@example.com"}).json()["id"]
        before = api.get(f"/v1/check?customer={cid}&purpose=newsletter&channel=email").json()
        assert (before["allowed"], before["reason"]) == (False, "unconfirmed")
        records = api.get(f"/v1/customers/{cid}/consents/history").json()["records"]
        assert [r["action"] for r in records] == ["request", "refuse"]
        shown = records[0]["proof"]["shown"]
        assert [(s["purpose"], s["chosen"]) for s in shown] == [
            ("newsletter", True),
            ("partner_offers", False),
        ]
        assert records[0]["proof"]["origin"] == shop_origin
        assert records[0]["proof"]["label"] == "E-mail me your offers"

        # The confirmation mail, in the outbox: its link, opened and confirmed in the browser.
        outbox = tmp_path / "data" / "outbox"
        mail = ""
        for _ in range(100):
            texts = sorted(outbox.glob("*.txt")) if outbox.exists() else []
            if texts:
                mail = texts[0].read_text()
                break
            time.sleep(0.05)
        assert "ann@example.com" in mail
        link = re.search(r"(http\S+/c/\S+)", mail)
        assert link, mail
        confirm = browser.new_page()
        confirm_watch = Watch(confirm)
        confirm.goto(link.group(1))
        confirm.get_by_role("heading", name="Please confirm").wait_for()
        _axe(confirm, "the confirmation page")
        confirm.get_by_role("button", name="Yes, I confirm").click()
        confirm.get_by_role("heading", name="Thank you: confirmed").wait_for()
        _axe(confirm, "confirmed")
        confirm_watch.clean("the confirmation pages")
        after = api.get(f"/v1/check?customer={cid}&purpose=newsletter&channel=email").json()
        assert (after["allowed"], after["reason"]) == (True, "granted")
        records = api.get(f"/v1/customers/{cid}/consents/history").json()["records"]
        assert records[-1]["proof"]["confirms"] == records[0]["id"]

        # The same form in German, chosen by the page.
        german = browser.new_page()
        page_html["html"] = page_html["html"].replace('data-lang="en"', 'data-lang="de"')
        german.goto(shop_origin)
        german.get_by_role("group", name="Unser Newsletter").wait_for()
        assert german.get_by_label("Ihre E-Mail-Adresse").is_visible()
        _axe(german, "the embedded form in German")
        browser.close()
