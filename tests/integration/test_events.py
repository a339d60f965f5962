"""Events: batches with per-event errors, idempotent re-sending, sealed details, the customer's
exclusions (API and preference centre), export, erasure and retention."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from consentry.services import retention
from consentry.services.hub import Hub
from tests.integration.test_centre import _visitor

SHOE = {
    "type": "purchase",
    "time": "2026-11-20T10:00:00Z",
    "sku": "RUN-42",
    "category": "sport/running/shoes",
    "quantity": 1,
    "price": 89.99,
    "store": "store-01",
}


def _events(client: TestClient, *items: dict[str, Any]) -> dict[str, Any]:
    r = client.post("/v1/events", json={"events": list(items)})
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_a_batch_keeps_the_good_events_and_names_the_bad_ones(hub: Hub, client: TestClient) -> None:
    cid = client.post("/v1/customers", json={}).json()["id"]
    answer = _events(
        client,
        {**SHOE, "customer": cid, "id": "till-1"},
        {**SHOE, "customer": cid, "type": "teleport"},
        {"customer": cid, "type": "app_open"},
        {**SHOE, "customer": "cus_nobody", "id": "till-2"},
        {**SHOE, "customer": cid, "id": "till-1"},  # the same event twice in one batch
        {"customer": cid, "type": "store_visit", "time": "2026-11-21T09:00:00Z"},
    )
    assert answer["accepted"] == 2 and answer["duplicates"] == 1
    assert [e["index"] for e in answer["errors"]] == [1, 2, 3]
    assert "type" in answer["errors"][0]["reason"] and "time" in answer["errors"][1]["reason"]
    assert "no customer" in answer["errors"][2]["reason"]
    again = _events(client, {**SHOE, "customer": cid, "id": "till-1"})
    assert again == {
        "accepted": 0,
        "duplicates": 1,
        "errors": [],
        "flagged": [],
        "notifications": 0,
    }
    held = client.get(f"/v1/customers/{cid}/events").json()
    assert [e["type"] for e in held] == ["store_visit", "purchase"]
    assert held[1]["sku"] == "RUN-42" and held[1]["price"] == 89.99
    assert client.post("/v1/events", json={"events": [SHOE] * 10_001}).status_code == 422
    assert client.post("/v1/events", json={"events": []}).status_code == 422


def test_event_details_are_sealed_and_erased(hub: Hub, client: TestClient) -> None:
    cid = client.post("/v1/customers", json={}).json()["id"]
    _events(client, {**SHOE, "customer": cid, "category": "maternity/nappies-xyz"})
    if hub.db.is_sqlite:
        path = Path(str(hub.db.url.database))
        with hub.db.engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        assert b"nappies-xyz" not in path.read_bytes()
    export = client.get(f"/v1/customers/{cid}/export").json()
    assert export["events"][0]["category"] == "maternity/nappies-xyz"
    page = client.get(f"/v1/customers/{cid}/export", headers={"Accept": "text/html"})
    assert "maternity/nappies-xyz" in page.text
    assert client.delete(f"/v1/customers/{cid}").status_code == 202
    with hub.db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM events").scalar() == 0
    late = _events(client, {**SHOE, "customer": cid})
    assert late["accepted"] == 0 and "erased" in late["errors"][0]["reason"]


def test_the_customer_excludes_a_purchase_from_the_profile(hub: Hub, client: TestClient) -> None:
    cid = client.post("/v1/customers", json={"identifiers": {"email": "ann@example.com"}}).json()[
        "id"
    ]
    other = client.post("/v1/customers", json={}).json()["id"]
    _events(client, {**SHOE, "customer": cid, "category": "toys/gift-for-niece"})
    _events(client, {**SHOE, "customer": other})
    [gift] = client.get(f"/v1/customers/{cid}/events").json()
    [theirs] = client.get(f"/v1/customers/{other}/events").json()
    browser = _visitor(hub, client, cid)
    page = browser.get("/p/data")
    assert "toys/gift-for-niece" in page.text and "use this for recommendations" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    done = browser.post(f"/p/events/{gift['id']}/exclude", data={"csrf": csrf.group(1)})
    assert done.status_code == 200 and "Not used for recommendations" in done.text
    assert client.get(f"/v1/customers/{cid}/events").json()[0]["excluded"] is True
    # Someone else's purchase cannot be touched from this session, nor without the token.
    assert (
        browser.post(f"/p/events/{theirs['id']}/exclude", data={"csrf": csrf.group(1)}).status_code
        == 404
    )
    assert browser.post(f"/p/events/{gift['id']}/include", data={"csrf": "x"}).status_code == 403
    # The API does the same for apps acting for the customer.
    assert client.post(f"/v1/customers/{cid}/events/{gift['id']}/include").json() == {
        "id": gift["id"],
        "excluded": False,
    }
    assert client.post(f"/v1/customers/{other}/events/{gift['id']}/exclude").status_code == 404


def test_events_expire(hub: Hub, client: TestClient) -> None:
    cid = client.post("/v1/customers", json={}).json()["id"]
    _events(
        client,
        {**SHOE, "customer": cid, "time": "2024-01-01T00:00:00Z"},
        {"customer": cid, "type": "product_view", "time": "2026-01-01T00:00:00Z"},
        {**SHOE, "customer": cid, "time": "2026-11-01T00:00:00Z"},
    )
    real = hub.clock
    hub.clock = lambda: real() + timedelta(days=1)
    report = retention.run(hub)
    hub.clock = real
    assert report.events == 2
    [kept] = client.get(f"/v1/customers/{cid}/events").json()
    assert kept["time"].startswith("2026-11-01")
