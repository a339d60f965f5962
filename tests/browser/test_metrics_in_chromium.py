"""The metrics page as an operator first meets it, in a real browser against a real server
(the picture in docs/operations.md)."""

from __future__ import annotations

import httpx

from tests.browser.test_centre_in_chromium import CHROMIUM, SHOTS, pytestmark, server
from tests.conftest import ADMIN_KEY
from tests.helpers import NEWSLETTER

__all__ = ["pytestmark", "server"]


def test_the_metrics_page(server: str) -> None:
    from playwright.sync_api import sync_playwright

    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=server, headers=admin) as api:
        assert api.post("/v1/purposes", json=NEWSLETTER).status_code == 201
        scraper = api.post(
            "/v1/apps", json={"name": "prometheus", "scopes": ["metrics:read"], "purposes": []}
        ).json()["key"]
        cid = api.post("/v1/customers", json={}).json()["id"]
        for _ in range(5):
            api.get("/v1/check", params={"customer": cid, "purpose": "newsletter"})
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(
            viewport={"width": 1280, "height": 900},
            extra_http_headers={"Authorization": f"Bearer {scraper}"},
        )
        page = context.new_page()
        answer = page.goto(f"{server}/metrics")
        assert answer is not None and answer.status == 200
        body = page.inner_text("body")
        assert (
            'consentry_http_requests_total{method="GET",route="/v1/check",status="200"} 5.0' in body
        )
        assert "consentry_evidence_pending_leaves" in body
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "metrics-desktop.png"))
        browser.close()
