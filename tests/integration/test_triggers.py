"""Real-time triggers on both engines, driven by a controllable clock: a customer who declared
an interest walks into a store with a matching offer (the desk is told; the app pushes only with
location consent); three views of a category in a week without a purchase bring an e-mail the
next morning; windows, de-duplication, exclusions, consent and bad rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consentry.services.hub import Hub
from tests.helpers import change, make_customer, make_purpose
from tests.integration.test_offers import PURPOSES

STORE = "store-01-london"
NOW = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)

SHOP = {
    "categories": [
        {"path": "sport", "name": "Sport"},
        {"path": "sport/running", "name": "Running"},
        {"path": "sport/running/shoes", "name": "running shoes"},
        {"path": "home", "name": "Home"},
    ],
    "products": [
        {"sku": "RUN-SHOE", "name": "trail running shoes", "category": "sport/running/shoes"}
    ],
}
OFFERS = [
    {
        "id": "running-club",
        "title": "Running club: free entry",
        "category": "sport/running",
        "channels": ["store", "push"],
        "stores": [STORE],
        "for_answers": [{"question": "interests", "values": ["running"]}],
    },
    {
        "id": "shoes-10",
        "title": "Running shoes: 10 % off",
        "category": "sport/running/shoes",
        "channels": ["email"],
    },
    {
        "id": "mugs",
        "title": "Mugs",
        "category": "home",
        "channels": ["store", "push", "email"],
        "everyone": True,
    },
]
TRIGGERS = {
    "triggers": [
        {
            "id": "interest-in-store",
            "description": "A customer who told us an interest comes into a store with an offer.",
            "on": "store_visit",
            "dedupe": "1d",
            "then": [
                {"notify": "desk", "declared_only": True},
                {"notify": "push", "needs": ["location"], "declared_only": True},
            ],
        },
        {
            "id": "browsed-not-bought",
            "on": "product_view",
            "count": {"event": "product_view", "at_least": 3, "within": "7d"},
            "unless": {"event": "purchase", "within": "7d"},
            "dedupe": "7d",
            "then": [{"notify": "email", "needs": ["newsletter:email"], "next_day_at": 9}],
        },
    ]
}


@pytest.fixture
def clock(hub: Hub) -> list[datetime]:
    now = [NOW]
    hub.clock = lambda: now[0]
    return now


@pytest.fixture
def shop(client: TestClient, hub: Hub, clock: list[datetime]) -> TestClient:
    for purpose in PURPOSES:
        make_purpose(client, **purpose)
    make_purpose(client)  # the newsletter, by e-mail and SMS
    make_purpose(
        client,
        id="location",
        title="Use my location in your stores",
        description="The app may notice when you are in one of our stores.",
        channels=["push"],
    )
    interests = {
        "id": "interests",
        "text": "What are you into?",
        "kind": "multiple_choice",
        "options": [{"value": "running", "label": "Running"}, {"value": "chess", "label": "Chess"}],
        "topic": "hobbies",
        "stage": 1,
        "points": 10,
        "channels": ["web"],
    }
    assert client.post("/v1/questions", json=interests).status_code == 201
    assert client.put("/v1/catalogue", json=SHOP).status_code == 200
    for offer in OFFERS:
        assert client.post("/v1/offers", json=offer).status_code == 201, offer
    r = client.put("/v1/triggers", json=TRIGGERS)
    assert r.status_code == 200, r.text
    return client


def _runner(client: TestClient, *purposes: str) -> str:
    cid = make_customer(client)
    for purpose in purposes:
        name, _, channel = purpose.partition(":")
        assert change(client, cid, purpose=name, channel=channel or None).status_code == 201
    answer = {
        "question": "interests",
        "value": ["running"],
        "channel": "web",
        "actor": {"type": "customer"},
    }
    assert client.post(f"/v1/customers/{cid}/answers", json=answer).status_code == 200
    return cid


def _event(client: TestClient, cid: str, kind: str, when: datetime, **extra: Any) -> int:
    body = {"customer": cid, "type": kind, "time": when.isoformat(), **extra}
    r = client.post("/v1/events", json={"events": [body]})
    assert r.status_code == 200 and not r.json()["errors"], r.text
    return int(r.json()["notifications"])


def _pending(client: TestClient, notify: str, **params: str) -> list[dict[str, Any]]:
    r = client.get("/v1/notifications", params={"notify": notify, **params})
    assert r.status_code == 200, r.text
    return list(r.json()["notifications"])


def test_a_runner_walks_into_a_store(shop: TestClient, clock: list[datetime]) -> None:
    ann = _runner(shop, "personalisation", "profiling", "location")
    assert _event(shop, ann, "store_visit", clock[0], store=STORE) == 2
    (desk,) = _pending(shop, "desk", store=STORE)
    assert desk["customer"] == ann and desk["offer"] == "running-club"
    facts = [f for r in desk["reasons"] for f in r["facts"]]
    assert [f["provenance"] for f in facts] == ["declared", "observed"]
    assert facts[1]["text"] == f"You came into {STORE}"
    assert _pending(shop, "desk", store="store-02-leeds") == []
    (push,) = _pending(shop, "push")
    assert push["offer"] == "running-club"
    # The same day again: nothing new (de-duplicated); two days later: again.
    clock[0] += timedelta(hours=3)
    assert _event(shop, ann, "store_visit", clock[0], store=STORE) == 0
    clock[0] += timedelta(days=2)
    assert _event(shop, ann, "store_visit", clock[0], store=STORE) == 2
    # The desk marks one done; it leaves the pending list.
    r = shop.post(f"/v1/notifications/{desk['id']}/done")
    assert r.status_code == 200 and r.json()["status"] == "done"
    assert [n["id"] for n in _pending(shop, "desk", store=STORE)] != [desk["id"]]
    assert shop.post("/v1/notifications/ntf_nothing/done").status_code == 404


def test_no_location_no_push_no_profiling_no_notification(
    shop: TestClient, clock: list[datetime]
) -> None:
    bea = _runner(shop, "personalisation", "profiling")
    assert _event(shop, bea, "store_visit", clock[0], store=STORE) == 1
    assert _pending(shop, "push") == []
    # Without profiling her visit is an observation we may not use: nothing at all.
    cal = _runner(shop, "personalisation", "location")
    assert _event(shop, cal, "store_visit", clock[0], store=STORE) == 0
    # Last year's visits, imported now, wake nobody up.
    dan = _runner(shop, "personalisation", "profiling", "location")
    assert _event(shop, dan, "store_visit", clock[0] - timedelta(days=300), store=STORE) == 0


def test_three_views_without_a_purchase_bring_an_email_next_morning(
    shop: TestClient, clock: list[datetime]
) -> None:
    eve = _runner(shop, "personalisation", "profiling", "newsletter:email")
    view = {"category": "sport/running/shoes", "sku": "RUN-SHOE"}
    assert _event(shop, eve, "product_view", clock[0], **view) == 0
    clock[0] += timedelta(days=2)
    assert _event(shop, eve, "product_view", clock[0], **view) == 0
    clock[0] += timedelta(days=3, hours=10)  # 2026-11-28 21:00 UTC
    assert _event(shop, eve, "product_view", clock[0], **view) == 1
    assert _pending(shop, "email") == []  # due tomorrow morning, not now
    clock[0] = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    (mail,) = _pending(shop, "email")
    assert mail["offer"] == "shoes-10" and mail["due_at"] == "2026-11-29T09:00:00Z"
    assert any(
        f["text"] == "You looked at shoes 3 times or more in 7 days"
        for r in mail["reasons"]
        for f in r["facts"]
    )
    # A fourth view the same week: de-duplicated.
    assert _event(shop, eve, "product_view", clock[0], **view) == 0


def test_a_purchase_or_an_exclusion_stops_the_email(
    shop: TestClient, clock: list[datetime], client: TestClient
) -> None:
    view = {"category": "sport/running/shoes", "sku": "RUN-SHOE"}
    fay = _runner(shop, "personalisation", "profiling", "newsletter:email")
    _event(shop, fay, "product_view", clock[0] - timedelta(days=1), **view)
    _event(shop, fay, "purchase", clock[0] - timedelta(hours=5), **view)
    _event(shop, fay, "product_view", clock[0] - timedelta(hours=1), **view)
    assert _event(shop, fay, "product_view", clock[0], **view) == 0  # she bought them
    gus = _runner(shop, "personalisation", "profiling", "newsletter:email")
    _event(shop, gus, "product_view", clock[0] - timedelta(days=1), **view)
    _event(shop, gus, "product_view", clock[0] - timedelta(hours=1), **view)
    first = next(
        e for e in client.get(f"/v1/customers/{gus}/events").json() if e["type"] == "product_view"
    )
    client.post(f"/v1/customers/{gus}/events/{first['id']}/exclude")
    assert _event(shop, gus, "product_view", clock[0], **view) == 0  # only two count
    # Without the newsletter by e-mail: no e-mail.
    hal = _runner(shop, "personalisation", "profiling")
    for hours in (30, 20, 0):
        assert _event(shop, hal, "product_view", clock[0] - timedelta(hours=hours), **view) == 0


def test_bad_triggers_are_refused_whole(shop: TestClient) -> None:
    bad = [
        ({"then": [{"notify": "push", "needs": ["telepathy"]}]}, "unknown purpose 'telepathy'"),
        ({"then": [{"notify": "push", "needs": ["location:email"]}]}, "has no channel 'email'"),
        ({"category": "garden"}, "unknown category 'garden'"),
        ({"dedupe": "7w"}, "dedupe"),
        ({"then": [{"notify": "fax"}]}, "notify"),
    ]
    base = TRIGGERS["triggers"][0]
    for change_, expected in bad:
        r = shop.put("/v1/triggers", json={"triggers": [{**base, **change_}]})
        assert r.status_code == 422 and expected in r.text, (change_, r.text)
    listed = shop.get("/v1/triggers").json()
    assert [t["id"] for t in listed] == ["interest-in-store", "browsed-not-bought"]


def test_notifications_are_exported_and_erased(
    shop: TestClient, hub: Hub, clock: list[datetime]
) -> None:
    ann = _runner(shop, "personalisation", "profiling")
    assert _event(shop, ann, "store_visit", clock[0], store=STORE) == 1
    export = shop.get(f"/v1/customers/{ann}/export").json()
    assert export["notifications"][0]["offer"] == "running-club"
    assert shop.delete(f"/v1/customers/{ann}").status_code == 202
    with hub.db.read() as conn:
        for table in ("notifications", "trigger_firings"):
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0


def test_the_store_desk_sees_who_came_in(shop: TestClient, hub: Hub, clock: list[datetime]) -> None:
    from tests.integration.test_desk import _clerk, _signed_in

    named = make_customer(shop, name="Ann Lee", identifiers={"loyalty_card": "6009"})
    for purpose in ("personalisation", "profiling"):
        assert change(shop, named, purpose=purpose, channel=None).status_code == 201
    answer = {
        "question": "interests",
        "value": ["running"],
        "channel": "web",
        "actor": {"type": "customer"},
    }
    assert shop.post(f"/v1/customers/{named}/answers", json=answer).status_code == 200
    assert _event(shop, named, "store_visit", clock[0], store=STORE) == 1
    _clerk(hub)  # Sam, at store-01-london
    desk, csrf = _signed_in(shop)
    page = desk.get("/desk/")
    assert "In store now" in page.text and "Ann<" in page.text and "Ann Lee" not in page.text
    assert "Running club: free entry" in page.text and "You came into store-01-london" in page.text
    (notification,) = _pending(shop, "desk", store=STORE)
    done = desk.post(
        f"/desk/notifications/{notification['id']}/done",
        data={"csrf": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "In store now" not in desk.get("/desk/").text
    assert _pending(shop, "desk", store=STORE) == []


def test_a_cap_limits_a_trigger_per_customer(shop: TestClient, clock: list[datetime]) -> None:
    capped = {
        "id": "visit-capped",
        "on": "store_visit",
        "dedupe": "1h",
        "cap": {"count": 2, "within": "30d"},
        "then": [{"notify": "desk", "declared_only": True}],
    }
    assert shop.put("/v1/triggers", json={"triggers": [capped]}).status_code == 200
    ann = _runner(shop, "personalisation", "profiling")
    made = []
    for _ in range(4):  # four visits, two hours apart: past the de-duplication each time
        made.append(_event(shop, ann, "store_visit", clock[0], store=STORE))
        clock[0] += timedelta(hours=2)
    assert made == [1, 1, 0, 0]
    clock[0] += timedelta(days=31)
    assert _event(shop, ann, "store_visit", clock[0], store=STORE) == 1
    assert (
        shop.put(
            "/v1/triggers", json={"triggers": [{**capped, "cap": {"count": 0, "within": "1d"}}]}
        ).status_code
        == 422
    )
