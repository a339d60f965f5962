"""Progressive profiling in a real browser: the question card in the preference centre
(answer, thanks, change, delete, stop asking) and at the staff desk (the clerk records the
answer); axe-core on every page."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.browser.test_centre_in_chromium import CHROMIUM, _axe, _seed, _shoot, pytestmark, server
from tests.browser.test_desk_in_chromium import PASSWORD, _add_clerk
from tests.conftest import ADMIN_KEY

__all__ = ["pytestmark", "server"]

QUESTIONS = [
    {
        "id": "favourite_colour",
        "text": {"en": "What's your favourite colour?", "de": "Was ist Ihre Lieblingsfarbe?"},
        "kind": "single_choice",
        "options": [
            {"value": "red", "label": {"en": "Red", "de": "Rot"}},
            {"value": "blue", "label": {"en": "Blue", "de": "Blau"}},
        ],
        "topic": "style",
        "stage": 1,
        "points": 10,
        "channels": ["web", "store"],
    },
    {
        "id": "saving_for",
        "text": "Anything you are saving up for?",
        "kind": "free_text",
        "max_length": 100,
        "topic": "shopping",
        "stage": 1,
        "points": 25,
        "channels": ["web"],
    },
]


def _seed_questions(base: str) -> str:
    """The customer of _seed, who agreed to be asked; her link."""
    link = _seed(base)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as api:
        preferences = {
            "id": "preferences",
            "title": "Ask me about my preferences",
            "description": "Now and then one short question, rewarded with points.",
            "legal_basis": "consent",
            "channels": [],
        }
        assert api.post("/v1/purposes", json=preferences).status_code == 201
        for question in QUESTIONS:
            assert api.post("/v1/questions", json=question).status_code == 201
        cid = api.post("/v1/customers/lookup", json={"loyalty_card": "6001234"}).json()["id"]
        grant = {
            "purpose": "preferences",
            "action": "grant",
            "notice_version": 1,
            "source": "web",
            "actor": {"type": "customer"},
        }
        assert api.post(f"/v1/customers/{cid}/consents", json=grant).status_code == 201
    return link


def test_a_question_in_the_preference_centre(server: str) -> None:
    from playwright.sync_api import sync_playwright

    link = _seed_questions(server)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(link)
        page.get_by_role("button", name="Continue").click()  # the link is used by its form
        page.wait_for_url("**/p/")
        page.get_by_role("heading", name="Earn 10 points").wait_for()
        assert page.get_by_text("What's your favourite colour?").is_visible()
        _axe(page, "question card")
        _shoot(page, "question-card")
        # Sent without a choice: the browser asks for one, nothing is posted.
        page.get_by_role("button", name="Save my answer").click()
        assert page.url.endswith("/p/")
        page.get_by_label("Blue").check()
        page.get_by_role("button", name="Save my answer").click()
        page.get_by_text("You earned 10 points.").wait_for()
        # One question a visit: no second card.
        assert page.get_by_role("heading", name="Earn 25 points").count() == 0
        _axe(page, "after an answer")

        page.get_by_role("link", name="What we hold about you").click()
        told = page.locator("#told + table")
        # "What's your favourite colour? 6 Dec 2026, On the website"
        question_cell = re.compile(r"^What's your favourite colour\? \d{1,2} \w{3} \d{4}")
        assert told.get_by_role("cell", name=question_cell).is_visible()
        assert told.get_by_role("cell", name="Blue", exact=True).is_visible()
        assert page.get_by_role("heading", name="Your points: 10").is_visible()
        _axe(page, "what you told us")
        page.get_by_role("link", name="Change What's your favourite colour?").click()
        page.get_by_role("heading", name="Change your answer").wait_for()
        _axe(page, "change an answer")
        assert page.get_by_label("Blue").is_checked()
        page.get_by_label("Red").check()
        page.get_by_role("button", name="Save my answer").click()
        page.wait_for_url("**/p/data*")
        assert (
            page.locator("#told + table").get_by_role("cell", name="Red", exact=True).is_visible()
        )
        assert page.get_by_role("heading", name="Your points: 10").is_visible()  # paid once
        page.get_by_role("button", name="Delete What's your favourite colour?").click()
        page.get_by_text("You have not told us anything yet.").wait_for()
        page.get_by_role("button", name="Stop asking me").click()
        page.get_by_text("We will not ask you any more questions.").wait_for()
        _axe(page, "asking stopped")
        page.goto(f"{server}/p/data")
        page.get_by_role("button", name="You may ask me again").click()
        page.wait_for_url("**/p/data*")
        assert page.get_by_role("button", name="Stop asking me").is_visible()
        browser.close()


def test_the_clerk_asks_one_question(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    _seed_questions(server)
    _add_clerk(server, tmp_path / "data")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{server}/desk/login")
        page.get_by_label("User name").fill("sam")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_label("Name", exact=True).fill("ann lee")
        page.get_by_label("Postcode").fill("sw1a 1aa")
        page.get_by_role("button", name="Find").click()
        page.get_by_role("heading", name="You may ask now").wait_for()
        assert page.get_by_text("Answering earns the customer 10 points.").is_visible()
        _axe(page, "desk question")
        _shoot(page, "staff-desk-question")
        page.get_by_label("Blue").check()
        page.get_by_role("button", name="Save the answer").click()
        page.get_by_text("Saved. The customer earned 10 points.").wait_for()
        assert page.get_by_role("heading", name="You may ask now").count() == 0
        _axe(page, "desk after the answer")
        browser.close()
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as api:
        cid = api.post("/v1/customers/lookup", json={"loyalty_card": "6001234"}).json()["id"]
        [given] = api.get(f"/v1/customers/{cid}/answers").json()["answers"]
    assert given["value"] == "blue" and given["channel"] == "store"
    assert given["actor"] == {"type": "staff", "id": "sam"}
