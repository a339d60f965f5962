"""Profiling and offer insights on both engines: the answer distribution equals a full
recount of the stored answers after random histories (answers, changes, declines, deletions,
expiries, erasures); daily counts are of distinct customers; nothing about fewer than k
customers shows in the API, its CSV or the console; stages hide a second count when one
could be subtracted out."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from consentry.cli.main import app as cli
from consentry.domain.insights import OFFER_METRICS, PROFILING_METRICS, range_totals
from consentry.domain.questions import tokens
from consentry.services import desk, insight_counts, profiling, retention
from consentry.services.hub import Hub
from consentry.store import insight_counts as store
from tests.helpers import make_customer, make_purpose
from tests.integration.test_import import point_cli_at
from tests.integration.test_profiling import COLOUR, PREFERENCES, WEB_CUSTOMER

PETS = {
    "id": "pets",
    "text": "Which pets do you have?",
    "kind": "multiple_choice",
    "options": [{"value": v, "label": v.title()} for v in ("cat", "dog", "fish")],
    "topic": "home",
    "stage": 1,
    "points": 5,
    "channels": ["web"],
}
MOVING = {
    "id": "moving",
    "text": "Moving home soon?",
    "kind": "yes_no",
    "topic": "home",
    "stage": 1,
    "points": 5,
    "channels": ["web"],
    "valid_days": 10,
}
EXPECTING = {
    "id": "expecting",
    "text": "Are you expecting a baby?",
    "kind": "yes_no",
    "topic": "baby",
    "stage": 3,
    "points": 0,
    "channels": ["web"],
    "sensitive": True,
}
VALUES: dict[str, list[Any]] = {
    "favourite_colour": ["red", "blue"],
    "pets": [["cat"], ["dog", "fish"], ["cat", "dog", "fish"]],
    "moving": [True, False],
    "expecting": [True, False],
}
DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _bank(client: TestClient) -> None:
    if client.get("/v1/purposes/preferences").status_code == 404:
        make_purpose(client, **PREFERENCES)
        for q in (COLOUR, PETS, MOVING, EXPECTING):
            assert client.post("/v1/questions", json=q).status_code == 201, q["id"]


def _customer(client: TestClient) -> str:
    cid = make_customer(client)
    grant = {"purpose": "preferences", "action": "grant", "notice_version": 1, "source": "web"}
    r = client.post(f"/v1/customers/{cid}/consents", json={**grant, "actor": {"type": "customer"}})
    assert r.status_code == 201, r.text
    return cid


def _answer(client: TestClient, cid: str, question: str, value: Any) -> None:
    body = {"question": question, "value": value, **WEB_CUSTOMER}
    r = client.post(f"/v1/customers/{cid}/answers", json=body)
    assert r.status_code == 200, r.text


def _recount(client: TestClient, hub: Hub) -> Counter[tuple[str, str]]:
    """Customers per (question, value) over every stored answer of an active customer, read
    back through the API (decrypted), sensitive and free-text questions left out."""
    counted: Counter[tuple[str, str]] = Counter()
    with hub.db.read() as conn:
        ids = [
            r[0] for r in conn.exec_driver_sql("SELECT id FROM customers WHERE status = 'active'")
        ]
    for cid in ids:
        for a in client.get(f"/v1/customers/{cid}/answers").json()["answers"]:
            if a["status"] == "answered" and a["question"] in (
                "favourite_colour",
                "pets",
                "moving",
            ):
                counted.update((a["question"], v) for v in tokens(a["value"]))
    return counted


step = st.tuples(
    st.integers(0, 4),  # customer
    st.sampled_from(["answer", "answer", "answer", "decline", "forget", "erase", "days"]),
    st.sampled_from(sorted(VALUES)),
    st.integers(0, 2),  # which value; for "days": how many days pass (times 5, plus 1)
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=30))
def test_the_answer_distribution_equals_a_full_recount(
    client: TestClient, hub: Hub, steps: list[tuple[int, str, str, int]]
) -> None:
    now = [DAY]
    hub.clock = lambda: now[0]
    _bank(client)
    customers = [_customer(client) for _ in range(5)]
    erased: set[str] = set()
    for who, action, question, which in steps:
        cid = customers[who]
        if cid in erased:
            continue
        if action == "answer":
            values = VALUES[question]
            _answer(client, cid, question, values[which % len(values)])
        elif action == "decline":
            r = client.post(f"/v1/customers/{cid}/answers/{question}/decline", json=WEB_CUSTOMER)
            assert r.status_code == 200, r.text
        elif action == "forget":
            r = client.delete(f"/v1/customers/{cid}/answers/{question}")
            assert r.status_code in (204, 404), r.text
        elif action == "erase":
            assert client.delete(f"/v1/customers/{cid}").status_code == 202
            erased.add(cid)
        else:  # time passes; expired intentions go
            now[0] += timedelta(days=5 * which + 1)
            retention.run(hub)
    with hub.db.read() as conn:
        tallies = {
            (r.question_id, r.value): r.customers
            for r in store.current_tallies(conn)
            if r.customers
        }
    assert tallies == dict(_recount(client, hub))  # the examples share the database: all of it
    assert not any(q == "expecting" for q, _ in tallies)


def test_daily_counts_are_of_distinct_customers_and_nine_never_show(
    client: TestClient, hub: Hub
) -> None:
    """Ten customers answer the colour question (one of them three times), nine the pets
    question: the colour shows 10 answered and 100 points, the pets nothing, in the API, its
    CSV and the console."""
    hub.clock = lambda: DAY
    _bank(client)
    for n in range(10):
        cid = _customer(client)
        for _ in range(3 if n == 0 else 1):
            _answer(client, cid, "favourite_colour", "red" if n < 6 else "blue")
        if n < 9:
            _answer(client, cid, "pets", ["cat"])
    params = {"from": "2026-11-20", "to": "2026-11-20"}
    cells = client.get("/v1/insights/profiling", params=params).json()["cells"]
    by = {(c["metric"], c["key"]): c for c in cells}
    assert by[("answered", "favourite_colour")]["customers"] == 10
    assert by[("answered", "favourite_colour")]["total"] == 12  # the events
    assert by[("points", "favourite_colour")] == {
        "day": "2026-11-20",
        "metric": "points",
        "key": "favourite_colour",
        "customers": 10,
        "total": 100,  # paid once each
        "suppressed": False,
    }
    for metric in ("answered", "points"):
        hidden = by[(metric, "pets")]
        assert hidden["customers"] is None and hidden["total"] is None and hidden["suppressed"]
    csv = client.get("/v1/insights/profiling", params={**params, "format": "csv"}).text
    assert "2026-11-20,answered,pets,<10," in csv.splitlines()
    # The console's sums, done by the database, follow the same rule as the cells.
    day = DAY.date()
    assert insight_counts.totals(hub, PROFILING_METRICS, day, day) == range_totals(
        insight_counts.profiling_counts(hub, day, day)
    )
    assert insight_counts.totals(hub, PROFILING_METRICS, day, day)[("answered", "pets")] == (
        0,
        0,
        1,
    )
    assert ",9," not in csv and not any(line.endswith(",9") for line in csv.splitlines())

    # The distribution (today's snapshot): red 6 shows, blue 4 and the nine cats do not.
    insight_counts.snapshot(hub, profiling.rules(hub))
    levels = client.get("/v1/insights/answers", params=params).json()["levels"]
    shown = {(r["question"], r["value"]): r["customers"] for r in levels}
    assert shown == {
        ("favourite_colour", "blue"): None,
        ("favourite_colour", "red"): None,
        ("pets", "cat"): None,
    }
    hub.settings.insights_k = 5
    levels = client.get("/v1/insights/answers", params=params).json()["levels"]
    assert {(r["question"], r["value"]): r["customers"] for r in levels} == {
        ("favourite_colour", "blue"): None,
        ("favourite_colour", "red"): 6,
        ("pets", "cat"): 9,
    }
    hub.settings.insights_k = 10

    # The console: the same figures, the nine nowhere.
    desk.add_staff(hub, "mo", "Mo", "correct horse battery", None, None, "marketer")
    browser = TestClient(client.app)
    browser.post("/console/login", data={"username": "mo", "password": "correct horse battery"})
    page = browser.get("/console/insights/told", params={**params, "question": "pets"}).text
    assert "Cat: fewer than 10" in page
    row = re.search(r"<td>Which pets do you have\?(.*?)</tr>", page, re.S)
    assert row and ">9<" not in row.group(1)
    colour = re.search(r"<td>What&#39;s your favourite colour\?(.*?)</tr>", page, re.S)
    assert colour and "<td>10</td>" in colour.group(1) and "<td>100</td>" in colour.group(1)
    csv = browser.get("/console/insights/profiling.csv", params=params).text
    assert "2026-11-20,answered,pets,<10," in csv


def test_stages_hide_a_second_count_when_one_could_be_subtracted(
    client: TestClient, hub: Hub
) -> None:
    """Fifteen customers of a month's standing. On the 20th three of them have shared three
    answers (stage 2): with k = 5 the 3 is hidden, and so is the 12 beside it (subtracting it
    from the customer count would give the 3 away). On the 21st three more have: 6 and 9 show."""
    now = [DAY - timedelta(days=30)]
    hub.clock = lambda: now[0]
    hub.settings.insights_k = 5
    _bank(client)
    customers = [_customer(client) for _ in range(15)]
    for day, sharing in ((DAY, customers[:3]), (DAY + timedelta(days=1), customers[3:6])):
        now[0] = day
        for cid in sharing:
            _answer(client, cid, "favourite_colour", "red")
            _answer(client, cid, "pets", ["cat"])
            _answer(client, cid, "moving", False)
        insight_counts.snapshot(hub, profiling.rules(hub))
    params = {"from": "2026-11-20", "to": "2026-11-21"}
    levels = client.get("/v1/insights/stages", params=params).json()["levels"]
    assert [(r["day"], r["stage"], r["customers"]) for r in levels] == [
        ("2026-11-20", 1, None),
        ("2026-11-20", 2, None),
        ("2026-11-21", 1, 9),
        ("2026-11-21", 2, 6),
    ]
    csv = client.get("/v1/insights/stages", params={**params, "format": "csv"}).text
    assert "2026-11-20,stage,1,<5" in csv and ",12" not in csv and ",3\n" not in csv


def test_offer_counts_follow_decisions_and_dismissals(client: TestClient, hub: Hub) -> None:
    """Decisions count per channel and offer; a dismissal counts; nine customers never show."""
    hub.clock = lambda: DAY
    make_purpose(client, id="personalisation", title="Offers for me", channels=[])
    catalogue = {
        "categories": [{"path": "shoes", "name": "Shoes"}],
        "products": [{"sku": "run-1", "name": "Runner", "category": "shoes"}],
    }
    r = client.put("/v1/catalogue", json=catalogue)
    assert r.status_code == 200, r.text
    offer = {
        "id": "best-sellers",
        "title": "Our best sellers",
        "category": "shoes",
        "channels": ["email"],
        "everyone": True,
    }
    assert client.post("/v1/offers", json=offer).status_code == 201
    for n in range(12):
        cid = make_customer(client)
        for _ in range(2):
            r = client.post(f"/v1/customers/{cid}/decisions", json={"channel": "email"})
            assert r.status_code == 200, r.text
            assert [o["id"] for o in r.json()["offers"]] == ["best-sellers"]
        if n < 9:
            r = client.post(f"/v1/customers/{cid}/offers/best-sellers/dismiss")
            assert r.status_code in (200, 201), r.text
    cells = client.get("/v1/insights/offers", params={"from": "2026-11-20", "to": "2026-11-20"})
    by = {(c["metric"], c["key"]): c for c in cells.json()["cells"]}
    assert (by[("decisions", "email")]["customers"], by[("decisions", "email")]["total"]) == (
        12,
        24,
    )
    assert (
        by[("chosen", "best-sellers")]["customers"],
        by[("chosen", "best-sellers")]["total"],
    ) == (12, 24)
    assert by[("dismissed", "best-sellers")]["customers"] is None  # nine
    day = DAY.date()
    assert insight_counts.totals(hub, OFFER_METRICS, day, day) == range_totals(
        insight_counts.offer_counts(hub, day, day)
    )


def test_a_backfill_counts_the_answers_from_before_the_distribution(
    client: TestClient, hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers stored before the distribution existed (as after migration 0016: none counted,
    no tallies) are counted by `consentry insights backfill`, once."""
    hub.clock = lambda: DAY
    _bank(client)
    for n in range(12):
        cid = _customer(client)
        _answer(client, cid, "favourite_colour", "red" if n % 3 else "blue")
        _answer(client, cid, "pets", [["cat"], ["dog", "fish"]][n % 2])
    with hub.db.write() as conn:
        conn.exec_driver_sql("UPDATE answers SET counted = false")
        conn.exec_driver_sql("DELETE FROM insight_answer_tallies")
    point_cli_at(hub, monkeypatch)
    runner = CliRunner()
    first = runner.invoke(cli, ["insights", "backfill"])
    assert first.exit_code == 0, first.output
    assert "24 answers counted" in first.output
    with hub.db.read() as conn:
        tallies = {(r.question_id, r.value): r.customers for r in store.current_tallies(conn)}
    assert tallies == dict(_recount(client, hub))
    again = runner.invoke(cli, ["insights", "backfill"])
    assert "0 answers counted" in again.output


POINTS = {"favourite_colour": 10, "pets": 5, "moving": 5}
count_step = st.tuples(
    st.integers(0, 3),  # customer
    st.sampled_from(["answer", "answer", "decline"]),
    st.sampled_from(sorted(POINTS)),
    st.integers(0, 2),  # value
    st.integers(0, 3),  # day
)


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(count_step, min_size=1, max_size=25))
def test_daily_counts_equal_a_recount(
    client: TestClient, hub: Hub, steps: list[tuple[int, str, str, int, int]]
) -> None:
    """Random answers and declines over four days: each day's cell holds the distinct
    customers and the events of a recount, and points once per customer and question."""
    now = [DAY]
    hub.clock = lambda: now[0]
    _bank(client)
    with hub.db.write() as conn:  # the examples share the database: count this one alone
        conn.exec_driver_sql("DELETE FROM insight_daily")
        conn.exec_driver_sql("DELETE FROM insight_daily_members")
    customers = [_customer(client) for _ in range(4)]
    members: dict[tuple[str, str, str], set[str]] = {}
    totals: Counter[tuple[str, str, str]] = Counter()
    paid: set[tuple[str, str]] = set()
    for who, action, question, which, day in steps:
        now[0] = DAY + timedelta(days=day)
        cid, when = customers[who], now[0].date().isoformat()
        if action == "answer":
            values = VALUES[question]
            _answer(client, cid, question, values[which % len(values)])
            events = [("answered", 1)]
            if (cid, question) not in paid:
                paid.add((cid, question))
                events.append(("points", POINTS[question]))
        else:
            r = client.post(f"/v1/customers/{cid}/answers/{question}/decline", json=WEB_CUSTOMER)
            assert r.status_code == 200, r.text
            events = [("declined", 1)]
        for metric, amount in events:
            members.setdefault((when, metric, question), set()).add(cid)
            totals[(when, metric, question)] += amount
    with hub.db.read() as conn:
        found = {
            (r.day.isoformat(), r.metric, r.key): (r.customers, r.total)
            for r in store.daily_between(
                conn, PROFILING_METRICS, date(2026, 11, 1), date(2026, 12, 1)
            )
        }
    assert found == {cell: (len(who), totals[cell]) for cell, who in members.items()}
