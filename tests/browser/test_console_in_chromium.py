"""The console in a real browser against a real `consentry serve`: an admin creates a
purpose, publishes a new notice version and reads the diff, creates an app and sees its key
once, runs a full verification and watches it finish, and reads the insights; a marketer is
kept away from apps. axe-core (WCAG 2.1 A and AA) on every page."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.browser.test_centre_in_chromium import CHROMIUM, _axe, _shoot, pytestmark, server
from tests.conftest import ADMIN_KEY
from tests.helpers import staff_add

__all__ = ["pytestmark", "server"]
PASSWORD = "correct horse battery"
SOURCES = ["web"] * 5 + ["app"] * 3 + ["store"] * 2 + ["call_centre"]


def _add(data_dir: Path, username: str, role: str) -> None:
    env = {"CONSENTRY_DATA_DIR": str(data_dir), "CONSENTRY_DATABASE_URL": ""}
    options = ("--name", username.title(), "--desk", "none", "--role", role, "--password-stdin")
    staff_add(env, username, PASSWORD, *options)


def _history(base: str) -> None:
    """A month of newsletter grants and withdrawals from 300 customers, made in four places."""
    rng = random.Random(7)
    now = datetime.now(UTC)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as api:
        body = {
            "id": "newsletter",
            "title": "Newsletter and offers",
            "description": "We e-mail you our offers, at most twice a month.",
            "legal_basis": "consent",
            "channels": ["email"],
        }
        assert api.post("/v1/purposes", json=body).status_code == 201
        for _ in range(300):
            cid = api.post("/v1/customers", json={}).json()["id"]
            day = now - timedelta(days=rng.choice(range(3, 29)), minutes=rng.randrange(600))
            source = rng.choice(SOURCES)
            actions = ["grant"] + (["withdraw"] if rng.random() < 0.15 else [])
            for step, action in enumerate(actions):
                change = {
                    "purpose": "newsletter",
                    "channel": "email",
                    "action": action,
                    "notice_version": 1,
                    "source": source,
                    "actor": {"type": "customer"}
                    if source in ("web", "app")
                    else {"type": "staff", "id": "clerk-1"},
                    "captured_at": (day + timedelta(days=step * 2)).isoformat(),
                }
                r = api.post(f"/v1/customers/{cid}/consents", json=change)
                assert r.status_code == 201, r.text


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/console/")
    assert page.url.endswith("/console/login")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Overview").wait_for()


def test_the_console_journeys(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    _history(server)
    _add(tmp_path / "data", "priya", "admin")
    _add(tmp_path / "data", "tom", "marketer")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{server}/console/")
        _axe(page, "console sign-in")
        _sign_in(page, server, "priya")
        _axe(page, "console overview")

        # A purpose, then a new notice version, and the diff between the two.
        page.get_by_role("link", name="Purposes").click()
        _axe(page, "console purposes")
        page.get_by_label("Identifier").fill("loyalty_mail")
        page.get_by_label("Title customers read").fill("Loyalty letters")
        page.get_by_label("Notice text").fill("We post your points statement every quarter.")
        page.get_by_label("Channels").fill("post")
        page.get_by_role("button", name="Create the purpose").click()
        page.get_by_role("heading", name="Loyalty letters").wait_for()
        _axe(page, "console purpose")
        page.get_by_label("Notice text").fill("We post your points statement twice a year.")
        page.get_by_label("Ask customers to consent again").check()
        page.get_by_role("button", name="Publish version 2").click()
        page.get_by_text("Notice version 2 is published.").wait_for()
        expect(page.locator("del").filter(has_text="every quarter")).to_be_visible()
        expect(page.locator("ins").filter(has_text="twice a year")).to_be_visible()
        _axe(page, "console notice diff")
        _shoot(page, "console-notice-diff")

        # An app: its key once.
        page.get_by_role("link", name="Apps and keys").click()
        page.get_by_label("Name").fill("mailer")
        page.get_by_label("consents:read").check()
        page.get_by_label("Newsletter and offers").check()
        page.get_by_role("button", name="Create the app").click()
        key = page.locator("#new-key").inner_text()
        assert key.startswith("csk_")
        _axe(page, "console app created")
        page.get_by_role("link", name="Apps and keys").click()
        assert key not in page.content()
        r = httpx.get(f"{server}/v1/purposes", headers={"Authorization": f"Bearer {key}"})
        assert r.status_code == 200

        # A full verification, watched to the end.
        page.get_by_role("link", name="Evidence log").click()
        _axe(page, "console evidence")
        page.get_by_role("button", name="Verify the whole log now").click()
        page.get_by_text("The log verifies").wait_for(timeout=30_000)
        bar = page.locator("progress")
        assert bar.get_attribute("value") == bar.get_attribute("max")
        _axe(page, "console verification")

        # Insights: the month's flows by source, per week (a day's cells are under k).
        page.get_by_role("link", name="Insights").click()
        _axe(page, "console insights")
        page.get_by_label("Purpose", exact=True).select_option("newsletter")
        page.get_by_label("Per", exact=True).select_option("week")
        page.get_by_role("button", name="Show").click()
        page.wait_for_url("**period=week**")
        assert page.locator("svg.chart rect").count() >= 8
        page.get_by_text("The data as a table").first.click()
        _axe(page, "console insights per week")
        _shoot(page, "console-insights")
        page.get_by_role("link", name="What customers told us").click()
        page.get_by_role("heading", name="Relationship stages").wait_for()
        _axe(page, "console insights told")
        page.get_by_role("link", name="Offers", exact=True).last.click()
        page.get_by_role("heading", name="Insights: offers").wait_for()
        _axe(page, "console insights offers")

        for name in (
            "Questions",
            "Offers",
            "Webhooks",
            "Staff",
            "Erasures and exports",
            "Activity",
        ):
            page.get_by_role("link", name=name, exact=True).click()
            _axe(page, f"console {name}")
        expect(page.get_by_text("app.created")).to_be_visible()
        expect(page.get_by_text("notice.published")).to_be_visible()

        # The marketer: no apps, not even by typing the address.
        marketer = browser.new_context().new_page()
        _sign_in(marketer, server, "tom")
        expect(marketer.get_by_role("link", name="Apps and keys")).to_have_count(0)
        marketer.goto(f"{server}/console/apps")
        marketer.get_by_role("heading", name="Not allowed").wait_for()
        _axe(marketer, "console refused")
        browser.close()
