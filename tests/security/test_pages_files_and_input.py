"""Security review 816681f, findings 12, 15 and 16: odd input is a 4xx, never a 500; the data
directory and its files are the server's alone; pages carry security headers and are never
cached."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consentry.api.app import create_app
from consentry.services.hub import Hub
from consentry.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.helpers import GRANT, change, make_customer, make_purpose, open_link
from tests.integration.test_console import _member, _sign_in


def _nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        value = {"n": value}
    return value


@pytest.mark.parametrize("levels", [17, 254, 600])
def test_a_deeply_nested_proof_is_422(client: TestClient, levels: int) -> None:
    make_purpose(client)
    cid = make_customer(client)
    r = change(client, cid, proof=_nested(levels))
    assert r.status_code == 422, r.text
    assert "nested more than 16 levels" in r.text
    withdraw_all = client.post(
        f"/v1/customers/{cid}/consents/withdraw-all",
        json={"source": "web", "actor": {"type": "customer"}, "proof": _nested(levels)},
    )
    assert withdraw_all.status_code == 422
    assert client.get(f"/v1/customers/{cid}/consents/history").json()["records"] == []


def test_a_huge_proof_is_422(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    assert change(client, cid, proof={"x": "y" * 20_000}).status_code == 422
    assert change(client, cid, proof=_nested(15)).status_code == 201  # within the bounds


def test_odd_query_values_on_pages_are_not_500(hub: Hub, client: TestClient) -> None:
    cid = make_customer(client)
    url = client.post(f"/v1/customers/{cid}/preference-link").json()["url"]
    browser = TestClient(client.app)
    assert open_link(browser, "/p/" + url.split("/p/")[1]).status_code == 303
    for earned in ("²", "٣", "9" * 40, "-1"):
        assert browser.get("/p/", params={"earned": earned}).status_code == 200
    _member(hub, "ada", "admin")
    console, _ = _sign_in(client, "ada")
    for before in (str(10**30), "-5", "x"):
        assert console.get("/console/activity", params={"before": before}).status_code == 422


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_directory_is_the_servers_alone(tmp_path: Path) -> None:
    """The default layout: the SQLite database, its WAL, the keys, the key store and the mail
    outbox all in the data directory."""
    settings = Settings(data_dir=tmp_path / "data", admin_key=ADMIN_KEY)
    hub = Hub.open(settings)
    try:
        with TestClient(create_app(hub, run_sequencer=False)) as api:
            api.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            make_customer(api, identifiers={"email": "ann@example.com"})
            TestClient(api.app).post("/p/request", data={"email": "ann@example.com"})
    finally:
        hub.close()
    data = settings.data_dir
    assert _mode(data) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "consentry.db" for p in files)
    assert any(p.suffix == ".eml" for p in files)
    for path in files:
        assert _mode(path) & 0o077 == 0, f"{path.relative_to(data)} is {oct(_mode(path))}"
    for folder in (p for p in data.rglob("*") if p.is_dir()):
        assert _mode(folder) & 0o077 == 0, folder


def test_an_existing_world_readable_data_directory_is_closed(tmp_path: Path) -> None:
    data = tmp_path / "old"
    data.mkdir(mode=0o755)
    (data / "consentry.db").touch(mode=0o644)
    hub = Hub.open(Settings(data_dir=data, admin_key=ADMIN_KEY))
    try:
        assert _mode(data) == 0o700 and _mode(data / "consentry.db") == 0o600
    finally:
        hub.close()


@pytest.mark.parametrize("path", ["/p/request", "/p/", "/desk/login", "/console/login"])
def test_pages_carry_security_headers(client: TestClient, path: str) -> None:
    page = TestClient(client.app).get(path)
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["cache-control"] == "no-store"


def test_what_schemathesis_found_is_4xx(client: TestClient) -> None:
    """Three 500s a schemathesis run of the whole OpenAPI found (issue 24's acceptance run)."""
    make_purpose(client)
    cid = make_customer(client)
    lone = b'{"source": "web", "actor": {"type": "customer"}, "proof": {"k": "\\udc00"}}'
    r = client.post(
        f"/v1/customers/{cid}/consents/withdraw-all",
        content=lone,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["type"].endswith("/malformed-json")
    huge = {"customer": cid, "type": "purchase", "time": "2026-11-20T10:00:00Z", "x": 2**80}
    answer = client.post("/v1/events", json={"events": [huge]})
    assert answer.status_code == 200 and answer.json()["errors"][0]["index"] == 0
    nulls = {"legal_basis": None, "channels": None, "sensitive": None}
    r = client.put("/v1/purposes/newsletter", json=nulls)
    assert r.status_code == 422 and "cannot be null" in r.json()["detail"]
    assert (
        client.put("/v1/purposes/newsletter", json={"expires_after_days": None}).status_code == 200
    )


def test_a_value_the_database_refuses_is_422(client: TestClient) -> None:
    """Found by schemathesis on PostgreSQL: a NUL character in a trigger's purpose name."""
    triggers = {
        "triggers": [
            {"id": "t", "on": "purchase", "then": [{"notify": "desk", "needs": ["news\x00"]}]}
        ]
    }
    r = client.put("/v1/triggers", json=triggers)
    assert r.status_code == 422, r.text
    r = client.post("/v1/customers/lookup", json={"name": "Ann\x00", "postcode": "SW1A1AA"})
    assert r.status_code in (404, 422)
    cid = make_customer(client)  # and through the consent change's own driver cursor
    r = client.post(f"/v1/customers/{cid}/consents", json={**GRANT, "purpose": "news\x00"})
    assert r.status_code in (404, 422), r.text
