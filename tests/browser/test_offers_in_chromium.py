"""Offers in the preference centre, in a real browser: "Why am I seeing this?" shows the facts
used with their provenance and the consent that allowed them; "Not relevant" removes the offer
and "Show it again" brings it back; axe-core on the page."""

from __future__ import annotations

import httpx

from tests.browser.test_centre_in_chromium import CHROMIUM, _axe, _seed, _shoot, pytestmark, server
from tests.conftest import ADMIN_KEY

__all__ = ["pytestmark", "server"]

INTERESTS = {
    "id": "interests",
    "text": "What are you into?",
    "kind": "multiple_choice",
    "options": [{"value": "running", "label": "Running"}, {"value": "cooking", "label": "Cooking"}],
    "topic": "hobbies",
    "stage": 1,
    "points": 10,
    "channels": ["web"],
}
CATALOGUE = {
    "categories": [
        {"path": "sport", "name": "Sport"},
        {"path": "sport/running", "name": "Running"},
        {"path": "home", "name": "Home"},
    ]
}
OFFERS = [
    {
        "id": "running-club",
        "title": "Join our running club",
        "text": "Free entry on Sundays.",
        "category": "sport/running",
        "channels": ["web"],
        "for_answers": [{"question": "interests", "values": ["running"]}],
    },
    {
        "id": "mugs",
        "title": "Winter mugs: 2 for 1",
        "category": "home",
        "channels": ["web"],
        "everyone": True,
        "tags": ["season"],
    },
]


def _seed_offers(base: str) -> str:
    """The customer of _seed, who allowed personalisation on the web and said she runs."""
    link = _seed(base)
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as api:
        r = api.put("/v1/purposes/personalisation", json={"channels": ["email", "in_app", "web"]})
        assert r.status_code == 200, r.text
        assert api.post("/v1/questions", json=INTERESTS).status_code == 201
        assert api.put("/v1/catalogue", json=CATALOGUE).status_code == 200
        for offer in OFFERS:
            assert api.post("/v1/offers", json=offer).status_code == 201, offer
        cid = api.post("/v1/customers/lookup", json={"loyalty_card": "6001234"}).json()["id"]
        grant = {
            "purpose": "personalisation",
            "channel": "web",
            "action": "grant",
            "notice_version": 1,
            "source": "web",
            "actor": {"type": "customer"},
        }
        assert api.post(f"/v1/customers/{cid}/consents", json=grant).status_code == 201
        answer = {
            "question": "interests",
            "value": ["running"],
            "channel": "web",
            "actor": {"type": "customer"},
        }
        assert api.post(f"/v1/customers/{cid}/answers", json=answer).status_code == 200
    return link


def test_offers_explain_themselves(server: str) -> None:
    from playwright.sync_api import sync_playwright

    link = _seed_offers(server)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(link)
        page.get_by_role("button", name="Continue").click()  # the link is used by its form
        page.wait_for_url("**/p/")
        page.get_by_role("link", name="Offers for you, and why").click()
        page.get_by_role("heading", name="Offers for you").wait_for()
        offers = page.locator("li.offer h2")
        assert offers.all_inner_texts() == ["Join our running club", "Winter mugs: 2 for 1"]
        page.get_by_text("Why am I seeing this?").first.click()
        why = page.locator("li.offer").first.locator("details")
        assert "You told us: What are you into? — Running" in why.inner_text()
        assert "Used because you agreed to: Offers chosen from what you tell us" in (
            why.inner_text()
        )
        page.get_by_text("Why am I seeing this?").nth(1).click()
        assert "we used nothing about you" in page.locator("li.offer").nth(1).inner_text()
        _axe(page, "offers")
        _shoot(page, "offers-why")
        page.get_by_role("button", name="Not relevant Join our running club").click()
        page.get_by_role("heading", name="Offers you said are not relevant").wait_for()
        assert offers.all_inner_texts() == ["Winter mugs: 2 for 1"]
        _axe(page, "offers after not relevant")
        page.get_by_role("button", name="Show it again Join our running club").click()
        page.get_by_role("heading", name="Offers for you").wait_for()
        assert offers.all_inner_texts()[0] == "Join our running club"
        browser.close()
