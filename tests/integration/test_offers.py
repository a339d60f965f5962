"""Offers with tact, end to end through the API on both engines: the running-shoes case (a
complement, never the shoes again), the pregnancy case (never inferred, only declared and
granted), the gift-exclusion case (an excluded purchase is never used), intentions with a date,
dismissals, caps, quiet hours and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from consentry.services import complements
from consentry.services.hub import Hub
from tests.helpers import change, make_customer, make_purpose

PURPOSES = [
    {
        "id": "personalisation",
        "title": "Offers chosen from what you tell us",
        "description": "We use the preferences you share to pick offers.",
        "legal_basis": "consent",
        "channels": ["email", "in_app", "store", "push"],
    },
    {
        "id": "profiling",
        "title": "Suggestions from your purchases",
        "description": "We look at what you bought to suggest what goes with it.",
        "legal_basis": "consent",
        "channels": [],
    },
    {
        "id": "maternity",
        "title": "Baby and maternity offers",
        "description": "Only if you tell us yourself.",
        "legal_basis": "consent",
        "channels": ["email", "in_app"],
        "sensitive": True,
    },
]

QUESTIONS = [
    {
        "id": "interests",
        "text": "What are you into?",
        "kind": "multiple_choice",
        "options": [{"value": v, "label": v.title()} for v in ("running", "cooking", "gaming")],
        "topic": "hobbies",
        "stage": 1,
        "points": 10,
        "channels": ["web", "app"],
    },
    {
        "id": "holiday_month",
        "text": "When are you going on holiday?",
        "kind": "month",
        "topic": "travel",
        "stage": 1,
        "points": 10,
        "channels": ["web", "app"],
    },
    {
        "id": "expecting_baby",
        "text": "Are you expecting a baby?",
        "kind": "yes_no",
        "topic": "family",
        "stage": 3,
        "points": 30,
        "channels": ["web", "app"],
        "sensitive": True,
    },
]

CATALOGUE = {
    "categories": [
        {"path": "sport", "name": "Sport"},
        {"path": "sport/running", "name": "Running"},
        {"path": "sport/running/shoes", "name": "running shoes"},
        {"path": "sport/running/socks", "name": "running socks"},
        {"path": "kitchen", "name": "kitchen"},
        {"path": "kitchen/pans", "name": "pans"},
        {"path": "toys", "name": "toys"},
        {"path": "toys/cars", "name": "toy cars"},
        {"path": "home/batteries", "name": "batteries"},
        {"path": "home", "name": "home"},
        {"path": "beauty/suncare", "name": "sun care"},
        {"path": "beauty", "name": "beauty"},
        {"path": "baby", "name": "Baby", "sensitive_topic": "maternity"},
        {"path": "baby/vitamins", "name": "pregnancy vitamins"},
        {"path": "baby/nappies", "name": "nappies"},
    ],
    "sensitive_topics": [
        {
            "id": "maternity",
            "purpose": "maternity",
            "question": "expecting_baby",
            "answered_with": ["yes"],
        }
    ],
    "products": [
        {"sku": "RUN-SHOE", "name": "trail running shoes", "category": "sport/running/shoes"},
        {"sku": "RUN-SOCK", "name": "running socks", "category": "sport/running/socks"},
        {"sku": "PAN-28", "name": "frying pan", "category": "kitchen/pans"},
        {"sku": "TOY-CAR", "name": "toy racing car", "category": "toys/cars"},
        {"sku": "AA-8", "name": "AA batteries", "category": "home/batteries"},
        {"sku": "SPF-50", "name": "sun cream SPF 50", "category": "beauty/suncare"},
        {"sku": "VIT-PRE", "name": "pregnancy vitamins", "category": "baby/vitamins"},
        {"sku": "NAP-1", "name": "nappies size 1", "category": "baby/nappies"},
    ],
}

OFFERS = [
    {
        "id": "socks",
        "title": "Running socks: 3 for 2",
        "category": "sport/running/socks",
        "channels": ["in_app", "email", "push"],
    },
    {
        "id": "shoes",
        "title": "Trail shoes -20 %",
        "sku": "RUN-SHOE",
        "channels": ["in_app", "email", "push"],
        "for_answers": [{"question": "interests", "values": ["running"]}],
    },
    {
        "id": "batteries",
        "title": "Batteries for the toys",
        "category": "home/batteries",
        "channels": ["in_app", "email"],
    },
    {
        "id": "pans",
        "title": "Pans for cooks",
        "category": "kitchen/pans",
        "channels": ["in_app", "email"],
        "for_answers": [{"question": "interests", "values": ["cooking"]}],
    },
    {
        "id": "suncream",
        "title": "Sun cream for your holiday",
        "category": "beauty/suncare",
        "channels": ["in_app", "email"],
        "ahead_of": {"question": "holiday_month", "days": 45},
    },
    {
        "id": "baby-welcome",
        "title": "Welcome, little one: 10 % off",
        "category": "baby",
        "channels": ["email", "in_app"],
    },
    {
        "id": "best-seller",
        "title": "Our best seller",
        "category": "home",
        "channels": ["in_app", "email", "push"],
        "everyone": True,
        "tags": ["best seller"],
    },
]

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(hub: Hub) -> list[datetime]:
    now = [NOW]
    hub.clock = lambda: now[0]
    return now


@pytest.fixture
def shop(client: TestClient, hub: Hub, clock: list[datetime]) -> TestClient:
    for purpose in PURPOSES:
        make_purpose(client, **purpose)
    for question in QUESTIONS:
        assert client.post("/v1/questions", json=question).status_code == 201
    r = client.put("/v1/catalogue", json=CATALOGUE)
    assert r.status_code == 200, r.text
    assert r.json() == {"categories": 15, "sensitive_topics": 1, "products": 8}
    for offer in OFFERS:
        r = client.post("/v1/offers", json=offer)
        assert r.status_code == 201, r.text
    return client


def _customer(client: TestClient, *purposes: str) -> str:
    cid = make_customer(client)
    for purpose in purposes:
        assert change(client, cid, purpose=purpose, channel=None).status_code == 201
    return cid


def _buy(client: TestClient, cid: str, *skus: str, when: datetime = NOW, **extra: Any) -> list[str]:
    sent = [
        {
            "customer": cid,
            "type": "purchase",
            "time": when.isoformat(),
            "sku": sku,
            "category": next(p["category"] for p in CATALOGUE["products"] if p["sku"] == sku),
            **extra,
        }
        for sku in skus
    ]
    r = client.post("/v1/events", json={"events": sent})
    assert r.status_code == 200 and not r.json()["errors"], r.text
    events = client.get(f"/v1/customers/{cid}/events").json()
    return [e["id"] for e in events if e["sku"] in skus]


def _crowd(client: TestClient, hub: Hub, *baskets: tuple[int, tuple[str, ...]]) -> None:
    """Customers who granted profiling buying these baskets a week ago; then learn."""
    for count, skus in baskets:
        for _ in range(count):
            cid = _customer(client, "profiling")
            _buy(client, cid, *skus, when=NOW - timedelta(days=7))
    complements.learn(hub)


def _decide(client: TestClient, cid: str, channel: str = "in_app", **body: Any) -> dict[str, Any]:
    r = client.post(f"/v1/customers/{cid}/decisions", json={"channel": channel, **body})
    assert r.status_code == 200, r.text
    return dict(r.json())


def _ids(decision: dict[str, Any]) -> list[str]:
    return [o["id"] for o in decision["offers"]]


def test_running_shoes_bring_socks_not_shoes(shop: TestClient, hub: Hub) -> None:
    _crowd(shop, hub, (25, ("RUN-SHOE", "RUN-SOCK")), (30, ("PAN-28",)))
    ann = _customer(shop, "personalisation", "profiling")
    _buy(shop, ann, "RUN-SHOE", when=NOW - timedelta(days=2))
    shop.post(
        f"/v1/customers/{ann}/answers",
        json={
            "question": "interests",
            "value": ["running"],
            "channel": "web",
            "actor": {"type": "customer"},
        },
    )
    decision = _decide(shop, ann)
    assert _ids(decision)[0] == "socks"
    assert "shoes" not in _ids(decision)  # the item just bought, even though she runs
    assert decision["suppressed"]["just_bought"] == 1
    socks = decision["offers"][0]["reasons"][0]
    assert [f["provenance"] for f in socks["facts"]] == ["observed", "derived"]
    assert "trail running shoes" in socks["facts"][0]["text"]
    assert socks["facts"][1]["text"].startswith("25 customers who bought running shoes")
    assert sorted(socks["allowed_by"]) == ["personalisation", "profiling"]
    # Without profiling the purchase is not a reason any more.
    assert change(shop, ann, "withdraw", purpose="profiling", channel=None).status_code == 201
    after = _decide(shop, ann)
    assert "socks" not in _ids(after)
    assert all(
        f["provenance"] == "declared"
        for o in after["offers"]
        for r in o["reasons"]
        for f in r["facts"]
    )
    # The log holds both decisions, with their reasons.
    logged = shop.get(f"/v1/customers/{ann}/decisions").json()
    assert [d["id"] for d in logged] == [after["id"], decision["id"]]
    assert logged[1]["offers"][0]["reasons"][0]["facts"][1]["provenance"] == "derived"


def test_pregnancy_is_never_inferred_only_declared(shop: TestClient, hub: Hub) -> None:
    # Many customers buy pregnancy vitamins and nappies together: no rule is ever learnt.
    _crowd(
        shop,
        hub,
        (25, ("VIT-PRE", "NAP-1")),
        (25, ("RUN-SHOE", "RUN-SOCK")),
        (25, ("PAN-28",)),
    )
    rules = [(r.antecedent, r.consequent) for r in _rules(hub)]
    assert rules and not any(a.startswith("baby") or c.startswith("baby") for a, c in rules)
    # A teenager who bought pregnancy vitamins, with personalisation and profiling granted.
    teen = _customer(shop, "personalisation", "profiling")
    _buy(shop, teen, "VIT-PRE", when=NOW - timedelta(days=1))
    for channel in ("in_app", "email"):
        assert "baby-welcome" not in _ids(_decide(shop, teen, channel))
    # A customer who told us, but did not grant the maternity purpose: still nothing.
    beth = _customer(shop, "personalisation")
    r = shop.post(
        f"/v1/customers/{beth}/answers",
        json={
            "question": "expecting_baby",
            "value": True,
            "channel": "web",
            "actor": {"type": "customer"},
        },
    )
    assert r.status_code in (200, 201), r.text
    assert "baby-welcome" not in _ids(_decide(shop, beth, "in_app"))
    # She grants it herself: now, and only now, the offer comes, and says why.
    assert change(shop, beth, purpose="maternity", channel="in_app").status_code == 201
    decision = _decide(shop, beth, "in_app")
    assert _ids(decision)[0] == "baby-welcome"
    reason = decision["offers"][0]["reasons"][0]
    assert reason["facts"][0]["provenance"] == "declared"
    assert reason["facts"][0]["source"] == "answer:expecting_baby"
    assert sorted(reason["allowed_by"]) == ["maternity", "personalisation"]
    # The sensitive purpose is channel-bound: not by e-mail, which she did not grant.
    assert "baby-welcome" not in _ids(_decide(shop, beth, "email"))


def test_an_excluded_gift_is_never_used(shop: TestClient, hub: Hub) -> None:
    _crowd(shop, hub, (25, ("TOY-CAR", "AA-8")), (30, ("PAN-28",)))
    cara = _customer(shop, "personalisation", "profiling")
    (gift,) = _buy(shop, cara, "TOY-CAR", when=NOW - timedelta(days=3))
    before = _decide(shop, cara)
    assert "batteries" in _ids(before)
    r = shop.post(f"/v1/customers/{cara}/events/{gift}/exclude")
    assert r.status_code == 200, r.text
    after = _decide(shop, cara)
    assert "batteries" not in _ids(after)
    assert not any(
        f["source"] == f"event:{gift}"
        for o in after["offers"]
        for r in o["reasons"]
        for f in r["facts"]
    )


def test_an_intention_with_a_date_leads_up_to_it(
    shop: TestClient, hub: Hub, clock: list[datetime]
) -> None:
    dan = _customer(shop, "personalisation")
    shop.post(
        f"/v1/customers/{dan}/answers",
        json={
            "question": "holiday_month",
            "value": "2027-02",
            "channel": "web",
            "actor": {"type": "customer"},
        },
    )
    assert "suncream" not in _ids(_decide(shop, dan))  # 71 days to go: too early
    clock[0] = datetime(2026, 12, 20, 12, tzinfo=UTC)
    decision = _decide(shop, dan)
    assert _ids(decision)[0] == "suncream"
    assert "43 days to go" in decision["offers"][0]["reasons"][0]["text"]
    clock[0] = datetime(2027, 2, 5, 12, tzinfo=UTC)
    assert "suncream" not in _ids(_decide(shop, dan))  # not after


def test_without_consent_only_offers_for_everyone(shop: TestClient, hub: Hub) -> None:
    eve = _customer(shop)
    shop.post(
        f"/v1/customers/{eve}/answers",
        json={
            "question": "interests",
            "value": ["cooking"],
            "channel": "web",
            "actor": {"type": "customer"},
        },
    )
    decision = _decide(shop, eve)
    assert _ids(decision) == ["best-seller"]
    assert decision["offers"][0]["reasons"] == [
        {"text": "Chosen for everyone: best seller", "weight": 0.5, "facts": [], "allowed_by": []}
    ]


def test_not_relevant_caps_and_quiet_hours(
    shop: TestClient, hub: Hub, clock: list[datetime]
) -> None:
    fay = _customer(shop, "personalisation")
    shop.post(
        f"/v1/customers/{fay}/answers",
        json={
            "question": "interests",
            "value": ["cooking"],
            "channel": "web",
            "actor": {"type": "customer"},
        },
    )
    assert _ids(_decide(shop, fay))[0] == "pans"
    r = shop.post(f"/v1/customers/{fay}/offers/pans/dismiss")
    assert r.status_code == 200 and r.json()["dismissed"] is True
    dismissed = _decide(shop, fay)
    assert "pans" not in _ids(dismissed) and dismissed["suppressed"]["dismissed"] == 1
    assert shop.post(f"/v1/customers/{fay}/offers/pans/restore").json()["dismissed"] is False
    # E-mail: at most 2 decisions with offers in 7 days, then an empty answer saying why.
    assert _decide(shop, fay, "email")["offers"]
    assert _decide(shop, fay, "email")["offers"]
    capped = _decide(shop, fay, "email")
    assert capped["offers"] == [] and capped["empty_because"].startswith("capped: 2 decisions")
    clock[0] += timedelta(days=8)
    assert _decide(shop, fay, "email")["offers"]
    # Push: nothing at 22:30 London time.
    clock[0] = datetime(2026, 12, 5, 22, 30, tzinfo=UTC)
    quiet = _decide(shop, fay, "push")
    assert quiet["offers"] == [] and quiet["empty_because"].startswith("quiet hours")


def test_decisions_need_the_scope_and_good_input(shop: TestClient, hub: Hub) -> None:
    cid = _customer(shop)
    for body in (
        {"channel": "fax"},
        {"channel": "in_app", "limit": 0},
        {"channel": "in_app", "context": {"basket": "RUN-SHOE"}},
    ):
        r = shop.post(f"/v1/customers/{cid}/decisions", json=body)
        assert r.status_code == 422, r.text
    assert (
        shop.post("/v1/customers/cus_nobody/decisions", json={"channel": "in_app"}).status_code
        == 404
    )
    from tests.helpers import new_app

    _, key = new_app(shop, ["consents:read"], ["*"])
    r = shop.post(
        f"/v1/customers/{cid}/decisions",
        json={"channel": "in_app"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 403
    _, key = new_app(shop, ["decisions:read"], ["*"])
    r = shop.post(
        f"/v1/customers/{cid}/decisions",
        json={"channel": "in_app"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 200


def test_catalogue_and_offers_reject_bad_references(shop: TestClient, hub: Hub) -> None:
    bad = {**OFFERS[0], "id": "bad", "category": "garden/hoses"}
    r = shop.post("/v1/offers", json=bad)
    assert r.status_code == 422 and "unknown category 'garden/hoses'" in r.json()["detail"]
    r = shop.post(
        "/v1/offers",
        json={
            **OFFERS[1],
            "id": "bad2",
            "for_answers": [{"question": "interests", "values": ["knitting"]}],
        },
    )
    assert r.status_code == 422 and "'knitting' is not an answer" in r.json()["detail"]
    r = shop.post("/v1/offers", json={**OFFERS[5], "id": "bad3", "everyone": True})
    assert r.status_code == 422 and "cannot be for everyone" in r.json()["detail"]
    r = shop.post(
        "/v1/offers",
        json={**OFFERS[4], "id": "bad4", "ahead_of": {"question": "interests", "days": 10}},
    )
    assert r.status_code == 422 and "not answered with a date" in r.json()["detail"]
    assert shop.post("/v1/offers", json=OFFERS[0]).status_code == 409
    broken = {
        **CATALOGUE,
        "products": [*CATALOGUE["products"], {"sku": "X", "name": "x", "category": "nowhere"}],
    }
    r = shop.put("/v1/catalogue", json=broken)
    assert r.status_code == 422 and "unknown category 'nowhere'" in r.json()["detail"]
    topic = {
        **CATALOGUE,
        "sensitive_topics": [{**CATALOGUE["sensitive_topics"][0], "purpose": "profiling"}],
    }
    r = shop.put("/v1/catalogue", json=topic)
    assert r.status_code == 422 and "not marked sensitive" in r.json()["detail"]
    # Nothing of the rejected catalogues was written.
    assert len(shop.get("/v1/catalogue/categories").json()) == 15
    retired = shop.delete("/v1/offers/socks")
    assert retired.status_code == 200 and retired.json()["active"] is False
    listed = shop.get("/v1/offers", params={"limit": 3}).json()
    assert len(listed["offers"]) == 3 and listed["next"]


def test_decisions_are_exported_and_erased(shop: TestClient, hub: Hub) -> None:
    gus = _customer(shop, "personalisation")
    decision = _decide(shop, gus)
    shop.post(f"/v1/customers/{gus}/offers/best-seller/dismiss")
    export = shop.get(f"/v1/customers/{gus}/export").json()
    assert [d["id"] for d in export["decisions"]] == [decision["id"]]
    assert export["dismissed_offers"][0]["offer"] == "best-seller"
    assert shop.delete(f"/v1/customers/{gus}").status_code == 202
    with hub.db.read() as conn:
        for table in ("decisions", "offer_dismissals"):
            assert conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 0


def _rules(hub: Hub) -> list[Any]:
    from consentry.store import catalogue as store

    with hub.db.read() as conn:
        return store.all_complements(conn)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    # Weighted towards the interesting cases: everything allowed, sensitive topics declared.
    purposes=st.one_of(
        st.just(frozenset({"personalisation", "profiling", "maternity"})),
        st.frozensets(st.sampled_from(["personalisation", "profiling", "maternity"])),
    ),
    interests=st.lists(st.sampled_from(["running", "cooking", "gaming"]), unique=True),
    expecting=st.sampled_from([None, True, False]),
    bought=st.lists(
        st.tuples(
            st.sampled_from(["RUN-SHOE", "TOY-CAR", *(p["sku"] for p in CATALOGUE["products"])]),
            st.integers(0, 90),
            st.booleans(),
        ),
        max_size=5,
    ),
    channel=st.sampled_from(["in_app", "in_app", "email", "store"]),
)
def test_no_decision_uses_what_the_customer_did_not_allow(
    shop: TestClient,
    hub: Hub,
    purposes: frozenset[str],
    interests: list[str],
    expecting: bool | None,
    bought: list[tuple[str, int, bool]],
    channel: str,
) -> None:
    """Random consents, answers, purchases and exclusions through the API; every reason of
    every decision checked against the policy and the customer's real consent state."""
    if not _rules(hub):
        _crowd(
            shop,
            hub,
            (21, ("RUN-SHOE", "RUN-SOCK")),
            (21, ("TOY-CAR", "AA-8")),
            (21, ("VIT-PRE", "NAP-1")),
            (21, ("PAN-28",)),
        )
    cid = make_customer(shop)
    for purpose in sorted(purposes):
        channel_of = "in_app" if purpose == "maternity" else None
        assert change(shop, cid, purpose=purpose, channel=channel_of).status_code == 201
    answer = {"channel": "web", "actor": {"type": "customer"}}
    if interests:
        shop.post(
            f"/v1/customers/{cid}/answers",
            json={**answer, "question": "interests", "value": interests},
        )
    if expecting is not None:
        shop.post(
            f"/v1/customers/{cid}/answers",
            json={**answer, "question": "expecting_baby", "value": expecting},
        )
    excluded: set[str] = set()
    for sku, days, exclude in bought:
        ids = _buy(shop, cid, sku, when=NOW - timedelta(days=days))
        if exclude:
            shop.post(f"/v1/customers/{cid}/events/{ids[0]}/exclude")
            excluded.add(f"event:{ids[0]}")
    decision = _decide(shop, cid, channel, limit=10)
    granted = {p for p in purposes if p != "maternity" or channel == "in_app"}
    for offer in decision["offers"]:
        event("chose " + ("a sensitive offer" if offer["category"].startswith("baby") else "one"))
        baby = offer["category"].startswith("baby")
        if baby:
            assert expecting is True and {"maternity", "personalisation"} <= granted
        for reason in offer["reasons"]:
            assert set(reason["allowed_by"]) <= granted
            for fact in reason["facts"]:
                event(f"used a {fact['provenance']} fact")
                assert fact["source"] not in excluded
                assert "personalisation" in granted
                if fact["provenance"] != "declared":
                    assert "profiling" in granted and not baby
                    assert "baby" not in fact["source"] and "VIT" not in fact["text"]


def test_decisions_expire_after_a_year(shop: TestClient, hub: Hub, clock: list[datetime]) -> None:
    from consentry.services import retention

    ida = _customer(shop, "personalisation")
    _decide(shop, ida)
    clock[0] += timedelta(days=200)
    kept = _decide(shop, ida)
    clock[0] += timedelta(days=200)
    assert retention.run(hub).decisions == 1
    logged = shop.get(f"/v1/customers/{ida}/decisions").json()
    assert [d["id"] for d in logged] == [kept["id"]]
