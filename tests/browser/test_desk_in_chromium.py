"""The staff desk in a real browser: a clerk signs in, finds a customer by name and postcode,
and records an opt-out of everything; axe-core on every page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.browser.test_centre_in_chromium import CHROMIUM, _axe, _seed, _shoot, pytestmark, server

__all__ = ["pytestmark", "server"]
PASSWORD = "correct horse battery"


def _add_clerk(base: str, data_dir: Path) -> None:
    env = {**os.environ, "CONSENTRY_DATA_DIR": str(data_dir)}
    env.pop("CONSENTRY_DATABASE_URL", None)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "consentry.cli",
            "staff",
            "add",
            "sam",
            "--name",
            "Sam Kaur",
            "--location",
            "store-01-london",
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )


def test_the_clerk_journey(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    _seed(server)
    _add_clerk(server, tmp_path / "data")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{server}/desk/")
        assert page.url.endswith("/desk/login")
        _axe(page, "desk sign-in")
        page.get_by_label("User name").fill("sam")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Find a customer").wait_for()
        _axe(page, "desk search")
        page.get_by_label("Name", exact=True).fill("ann lee")
        page.get_by_label("Postcode").fill("sw1a 1aa")
        page.get_by_role("button", name="Find").click()
        page.get_by_role("heading", name="Ann").wait_for()
        assert page.get_by_text("a***@example.com").is_visible()
        _axe(page, "desk customer")
        _shoot(page, "staff-desk-customer")
        page.get_by_role("link", name="Opt out of everything").click()
        _axe(page, "desk confirm")
        page.get_by_role("button", name="Yes, opt out of everything").click()
        page.get_by_text("Everything is withdrawn.").wait_for()
        assert page.get_by_role("button", name="Allow Newsletter and offers E-mail").is_visible()
        _axe(page, "desk after opt-out")
        # She changes her mind about the newsletter: recorded, and a receipt to print or send.
        page.get_by_role("button", name="Allow Newsletter and offers E-mail").click()
        page.get_by_role("heading", name="Read this to the customer").wait_for()
        assert page.get_by_text("We e-mail you our offers, at most twice a month.").is_visible()
        _axe(page, "desk grant: the notice to read out")
        page.get_by_role("button", name="The customer agreed: record it").click()
        page.get_by_role("link", name="Print or e-mail the receipt").click()
        page.get_by_role("heading", name="Receipt of a consent change").wait_for()
        _axe(page, "desk receipt")
        page.get_by_role("button", name="E-mail the receipt").click()
        page.get_by_text("Sent to the customer's e-mail address.").wait_for()
        _axe(page, "desk receipt sent")
        browser.close()
