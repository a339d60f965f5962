"""The transactional outbox and the change feed, on both engines: every change announced in
its own transaction (consents, imports, answers, restriction, erasure, trigger notifications),
in sequenced order, filtered by the app's purposes, with cursors that survive a restart and a
long-poll; a change committed late is never skipped."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from consentry.api.app import create_app
from consentry.services.hub import Hub
from consentry.settings import Settings
from tests.conftest import ADMIN_KEY, _truncate_pg
from tests.helpers import change, make_customer, make_purpose, new_app


def _feed(
    client: TestClient, after: str | None = None, key: str | None = None, **params: Any
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    query = {**params, **({"after": after} if after else {})}
    r = client.get("/v1/changes", params=query, headers=headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_every_change_is_announced_in_order(client: TestClient, hub: Hub) -> None:
    make_purpose(client)
    make_purpose(client, id="preferences", channels=[])
    cid = make_customer(client)
    assert change(client, cid).status_code == 201
    assert change(client, cid, "withdraw").status_code == 201
    assert client.post(f"/v1/customers/{cid}/restrict").status_code == 200
    assert client.post(f"/v1/customers/{cid}/unrestrict").status_code == 200
    # Nothing is visible before the outbox sequencer has given positions.
    assert _feed(client)["changes"] == []
    hub.outbox.integrate_all()
    first = _feed(client)
    kinds = [(c["type"], c["purpose"]) for c in first["changes"]]
    assert kinds == [
        ("consent.changed", "newsletter"),
        ("consent.changed", "newsletter"),
        ("customer.restricted", None),
        ("customer.unrestricted", None),
    ]
    grant = first["changes"][0]
    assert grant["customer"] == cid and grant["data"]["action"] == "grant"
    assert grant["data"]["channel"] == "email" and grant["data"]["in_force"] is True
    assert grant["data"]["source"] == "web"
    assert [c["position"] for c in first["changes"]] == [1, 2, 3, 4]
    assert _feed(client, first["next"])["changes"] == []
    assert client.delete(f"/v1/customers/{cid}").status_code == 202
    hub.outbox.integrate_all()
    later = _feed(client, first["next"])
    assert [c["type"] for c in later["changes"]] == ["customer.erased"]
    # Small pages: the cursor walks the whole feed.
    seen, cursor = [], None
    while True:
        page = _feed(client, cursor, limit=2)
        if not page["changes"]:
            break
        seen += [c["position"] for c in page["changes"]]
        cursor = page["next"]
    assert seen == [1, 2, 3, 4, 5]


def test_apps_see_only_their_purposes(client: TestClient, hub: Hub) -> None:
    make_purpose(client)
    make_purpose(client, id="partner_offers", channels=["email"])
    cid = make_customer(client)
    change(client, cid)
    change(client, cid, purpose="partner_offers")
    client.post(f"/v1/customers/{cid}/restrict")
    hub.outbox.integrate_all()
    _, mailer = new_app(client, ["consents:read"], ["newsletter"])
    _, partner = new_app(client, ["consents:read"], ["partner_offers"])
    _, till = new_app(client, ["events:write"], ["*"])
    assert [c["purpose"] for c in _feed(client, key=mailer)["changes"]] == ["newsletter", None]
    page = _feed(client, key=partner)
    assert [c["purpose"] for c in page["changes"]] == ["partner_offers", None]
    # The cursor of an app that sees little still moves past what it may not see.
    assert _feed(client, page["next"], key=partner)["changes"] == []
    refused = client.get("/v1/changes", headers={"Authorization": f"Bearer {till}"})
    assert refused.status_code == 403


def test_answers_imports_and_notifications_are_announced(
    client: TestClient, hub: Hub, tmp_path: Any
) -> None:
    from consentry.services.importer import import_consents

    make_purpose(client)
    make_purpose(client, id="preferences", channels=[])
    question = {
        "id": "colour",
        "text": "Colour?",
        "kind": "single_choice",
        "options": [{"value": "crimson", "label": "Crimson"}, {"value": "blue", "label": "Blue"}],
        "topic": "style",
        "stage": 1,
        "points": 5,
        "channels": ["web"],
    }
    assert client.post("/v1/questions", json=question).status_code == 201
    cid = make_customer(client, identifiers={"loyalty_card": "6001"})
    answer = {
        "question": "colour",
        "value": "crimson",
        "channel": "web",
        "actor": {"type": "customer"},
    }
    assert client.post(f"/v1/customers/{cid}/answers", json=answer).status_code == 200
    assert client.post(f"/v1/customers/{cid}/stop-asking").status_code == 200
    rows = tmp_path / "old.csv"
    rows.write_text(
        "loyalty_card,purpose,channel,action,captured_at\n"
        "6001,newsletter,email,grant,2025-01-01T10:00:00Z\n"
    )
    assert import_consents(hub, rows).imported == 1
    hub.outbox.integrate_all()
    changes = _feed(client)["changes"]
    assert [(c["type"], c["data"].get("question"), c["data"].get("asking")) for c in changes] == [
        ("preference.changed", "colour", None),
        ("preference.changed", None, False),
        ("consent.changed", None, None),
    ]
    assert "crimson" not in str(changes)  # the value itself is never announced
    export = client.get(f"/v1/customers/{cid}/export").json()
    assert [c["type"] for c in export["announced_changes"]] == [c["type"] for c in changes]


def test_bad_feed_requests(client: TestClient) -> None:
    for params in ({"after": "nonsense"}, {"limit": 0}, {"limit": 10_001}, {"wait": 31}):
        r = client.get("/v1/changes", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")


def test_long_poll_answers_when_a_change_arrives(client: TestClient, hub: Hub) -> None:
    make_purpose(client)
    cid = make_customer(client)
    start = _feed(client)["next"]
    t0 = time.monotonic()
    assert _feed(client, start, wait=0.5)["changes"] == []
    assert time.monotonic() - t0 >= 0.45

    def later() -> None:
        time.sleep(0.4)
        change(client, cid)
        hub.outbox.integrate_all()

    threading.Thread(target=later).start()
    t0 = time.monotonic()
    page = _feed(client, start, wait=10)
    assert [c["type"] for c in page["changes"]] == ["consent.changed"]
    assert time.monotonic() - t0 < 5


def test_cursors_survive_a_restart(settings: Settings) -> None:
    def serve(hub: Hub) -> TestClient:
        c = TestClient(create_app(hub, run_sequencer=False), raise_server_exceptions=False)
        c.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        return c

    hub = Hub.open(settings)
    with serve(hub) as client:
        make_purpose(client)
        cid = make_customer(client)
        change(client, cid)
        hub.outbox.integrate_all()
        cursor = _feed(client)["next"]
        change(client, cid, "withdraw")
    hub.close()
    again = Hub.open(settings)
    try:
        again.outbox.integrate_all()
        with serve(again) as client:
            page = _feed(client, cursor)
            assert [c["data"]["action"] for c in page["changes"]] == ["withdraw"]
            assert page["changes"][0]["position"] == 2
    finally:
        again.close()


@pytest.fixture
def pg_client(pg_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Hub, str]]:
    """PostgreSQL only: on SQLite one writer at a time means nothing commits out of order."""
    _truncate_pg(pg_url)
    settings = Settings(data_dir=tmp_path / "pg", database_url=pg_url, admin_key=ADMIN_KEY)
    hub = Hub.open(settings)
    try:
        with TestClient(create_app(hub, run_sequencer=False)) as client:
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            yield client, hub, pg_url
    finally:
        hub.close()


def test_a_change_that_commits_late_is_not_skipped(
    pg_client: tuple[TestClient, Hub, str],
) -> None:
    """PostgreSQL: a transaction holding a smaller key commits after a larger one was
    sequenced; the feed still shows it, after the other."""
    client, hub, database_url = pg_client
    make_purpose(client)
    early, late = make_customer(client), make_customer(client)
    engine = create_engine(database_url)
    slow = engine.connect()
    tx = slow.begin()
    slow.execute(
        text(
            "INSERT INTO outbox (type, subject, purpose, body, created_at) "
            "VALUES ('consent.changed', :s, 'newsletter', '{}', 0)"
        ),
        {"s": early},
    )
    change(client, late)  # a larger key, committed first
    hub.outbox.integrate_all()
    first = _feed(client)
    assert [c["customer"] for c in first["changes"]] == [late]
    tx.commit()
    slow.close()
    engine.dispose()
    hub.outbox.integrate_all()
    assert [c["customer"] for c in _feed(client, first["next"])["changes"]] == [early]
