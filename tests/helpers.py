"""Small builders shared by the tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from consentry.settings import Settings
from tests.conftest import ADMIN_KEY

NEWSLETTER = {
    "id": "newsletter",
    "title": "Newsletter and offers",
    "description": "We e-mail you our offers, at most twice a month.",
    "legal_basis": "consent",
    "channels": ["email", "sms", "post"],
    "sensitive": False,
    "expires_after_days": 730,
}


# A valid consent change: the newsletter by e-mail, granted by the customer on the web.
GRANT = {
    "purpose": "newsletter",
    "channel": "email",
    "action": "grant",
    "notice_version": 1,
    "source": "web",
    "actor": {"type": "customer"},
}


def make_purpose(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body = {**NEWSLETTER, **overrides}
    r = client.post("/v1/purposes", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def make_customer(client: TestClient, **body: Any) -> str:
    r = client.post("/v1/customers", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def change(
    client: TestClient,
    customer: str,
    action: str = "grant",
    purpose: str = "newsletter",
    channel: str | None = "email",
    version: int = 1,
    **extra: Any,
) -> Any:
    body: dict[str, Any] = {
        "purpose": purpose,
        "action": action,
        "notice_version": version,
        "source": "web",
        "actor": {"type": "customer"},
        **extra,
    }
    if channel is not None:
        body["channel"] = channel
    return client.post(f"/v1/customers/{customer}/consents", json=body)


def check(
    client: TestClient, customer: str, purpose: str = "newsletter", channel: str | None = "email"
) -> dict[str, Any]:
    params = {"customer": customer, "purpose": purpose}
    if channel:
        params["channel"] = channel
    r = client.get("/v1/check", params=params)
    assert r.status_code == 200, r.text
    return dict(r.json())


def new_app(client: TestClient, scopes: list[str], purposes: list[str]) -> tuple[str, str]:
    r = client.post("/v1/apps", json={"name": "app", "scopes": scopes, "purposes": purposes})
    assert r.status_code == 201, r.text
    return r.json()["id"], r.json()["key"]


def open_link(browser: TestClient, path: str) -> Any:
    """Open a personal link as a person does: the page, then its "Continue" (the POST that uses
    the link). Answers the POST's response (303 to /p/ when the link worked)."""
    import re

    page = browser.get(path, follow_redirects=False)
    if page.status_code != 200:
        return page
    confirm = re.search(r'name="confirm" value="([^"]+)"', page.text)
    assert confirm, page.text
    return browser.post(path, data={"confirm": confirm.group(1)}, follow_redirects=False)


def staff_add(env: dict[str, str], username: str, password: str, *options: str) -> None:
    """`consentry staff add` in its own process (as an operator runs it beside a server), the
    password on standard input; ``env`` names the data directory and database."""
    import os
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-m", "consentry.cli", "staff", "add", username, *options],
        input=password + "\n",
        text=True,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )


def witnessed_settings(tmp_path: Path, database_url: str, *vkeys: str) -> Settings:
    """A hub's settings with these witnesses' verifier keys (CONSENTRY_WITNESSES)."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        admin_key=ADMIN_KEY,
        witnesses=list(vkeys),
    )
