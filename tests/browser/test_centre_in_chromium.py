"""The preference centre in a real browser: Debian's Chromium driven by Playwright, against a
real `consentry serve`, with axe-core (WCAG 2.1 A and AA rules) run on every page, and
screenshots at phone and desktop width written to docs/screenshots/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.servers import free_port, serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (CI installs it)",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    env = {
        "CONSENTRY_DATA_DIR": str(tmp_path / "data"),
        "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
        "CONSENTRY_DATABASE_URL": "",
    }
    port = free_port()
    env["CONSENTRY_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    with serving(env, port=port) as base:
        yield base


def _seed(base: str) -> str:
    """Two purposes and a customer who granted the newsletter at a till; her link."""
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=base, headers=headers) as api:
        for body in (
            {
                "id": "newsletter",
                "title": "Newsletter and offers",
                "description": "We e-mail you our offers, at most twice a month.",
                "legal_basis": "consent",
                "channels": ["email", "sms"],
            },
            {
                "id": "personalisation",
                "title": "Offers chosen from what you tell us",
                "description": "We use the preferences you share with us to pick offers.",
                "legal_basis": "consent",
                "channels": ["email", "in_app"],
            },
        ):
            assert api.post("/v1/purposes", json=body).status_code == 201
        customer = {
            "identifiers": {"email": "ann@example.com", "loyalty_card": "6001234"},
            "name": "Ann Lee",
            "postcode": "SW1A 1AA",
        }
        cid = api.post("/v1/customers", json=customer).json()["id"]
        grant = {
            "purpose": "newsletter",
            "channel": "email",
            "action": "grant",
            "notice_version": 1,
            "source": "store",
            "actor": {"type": "staff", "id": "clerk-17"},
        }
        assert api.post(f"/v1/customers/{cid}/consents", json=grant).status_code == 201
        gift = {
            "customer": cid,
            "type": "purchase",
            "time": "2026-11-20T10:00:00Z",
            "category": "toys/gift for a niece",
            "store": "store-01-london",
        }
        assert api.post("/v1/events", json={"events": [gift]}).json()["accepted"] == 1
        return str(api.post(f"/v1/customers/{cid}/preference-link").json()["url"])


def _axe(page: Any, name: str) -> None:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG)
    assert results.violations_count == 0, f"{name}:\n{results.generate_report()}"


def _shoot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in (("phone", 360), ("desktop", 1280)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_the_customer_journey(server: str) -> None:
    from playwright.sync_api import sync_playwright

    link = _seed(server)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(accept_downloads=True)
        page.goto(link)  # the link is only looked at: its "Continue" uses it
        _axe(page, "continue")
        page.get_by_role("button", name="Continue").click()
        page.wait_for_url("**/p/")
        assert page.get_by_role("heading", name="Your privacy choices").is_visible()
        _axe(page, "centre")

        # Allow personalisation by e-mail: htmx swaps the purpose in place, no page load.
        page.evaluate("window.__kept = true")
        page.get_by_role("button", name="Allow Offers chosen from what you tell us E-mail").click()
        page.get_by_text("Saved.").wait_for()
        assert page.evaluate("window.__kept") is True
        _axe(page, "centre after a change")
        with page.expect_download() as receipt:
            page.get_by_role("link", name="Download the receipt of this change").click()
        assert receipt.value.suggested_filename.endswith(".json")

        # Stop all marketing, then undo.
        page.get_by_role("button", name="Stop all marketing").click()
        page.get_by_text("We have stopped all marketing.").wait_for()
        _axe(page, "after stop all")
        page.get_by_role("button", name="Undo").click()
        page.wait_for_url("**/p/")
        assert page.get_by_role("button", name="Stop Newsletter and offers E-mail").is_visible()

        page.get_by_role("link", name="What we hold about you").click()
        assert page.get_by_text("ann@example.com").is_visible()
        _axe(page, "what we hold")
        page.get_by_role(
            "button", name="Don't use this for recommendations toys/gift for a niece"
        ).click()
        page.get_by_text("Not used for recommendations").wait_for()
        _axe(page, "a purchase excluded")

        page.goto(f"{server}/p/")
        with page.expect_download() as download:
            page.get_by_role("link", name="Download my data").click()
        assert download.value.suggested_filename == "my-data.json"

        page.get_by_role("link", name="Delete my account").click()
        _axe(page, "delete")
        page.get_by_role("button", name="Yes, delete my account").click()
        page.get_by_role("heading", name="Your account is deleted").wait_for()
        _axe(page, "deleted")

        # The same pages in German, chosen by the switch.
        page.goto(f"{server}/p/request?lang=de")
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.get_by_role("button", name="Link senden").is_visible()
        _axe(page, "request (de)")
        page.get_by_label("Ihre E-Mail-Adresse").fill("somebody@example.com")
        page.get_by_role("button", name="Link senden").click()
        page.get_by_role("heading", name="Sehen Sie in Ihr E-Mail-Postfach").wait_for()
        _axe(page, "link requested (de)")
        page.goto(f"{server}/p/")  # no session any more
        assert page.get_by_role("heading", name="Ihre Sitzung ist beendet").is_visible()
        _axe(page, "session ended (de)")
        page.goto(link)  # its account is gone, and the link with it
        assert page.get_by_role("heading", name="Dieser Link ist ungültig").is_visible()
        _axe(page, "a dead link (de)")
        browser.close()


def test_the_centre_works_without_javascript(server: str) -> None:
    from playwright.sync_api import sync_playwright

    link = _seed(server)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(java_script_enabled=False)
        page.goto(link)
        page.get_by_role("button", name="Continue").click()  # a form: no script needed
        page.wait_for_url("**/p/")
        page.get_by_role("button", name="Stop Newsletter and offers E-mail").click()
        page.wait_for_url("**/p/?purpose=newsletter*")
        assert page.get_by_text("Saved.").is_visible()
        assert page.get_by_role("button", name="Allow Newsletter and offers E-mail").is_visible()
        browser.close()
