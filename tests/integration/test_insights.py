"""Insights on both engines: daily grants and withdrawals per purpose, channel and source, in
distinct customers, maintained from the outbox; no count of fewer than k customers is ever
shown (JSON or CSV); the counts equal a full recount after random histories, however the
counting is split into runs."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.domain.insights import PERIODS
from consentry.services import insights
from consentry.services.hub import Hub
from tests.helpers import change, make_customer, make_purpose

DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
STAFF = {"type": "staff", "id": "agent-7"}


def _flows(client: TestClient, **params: Any) -> Any:
    r = client.get(
        "/v1/insights/consents", params={"from": "2026-11-01", "to": "2026-11-30", **params}
    )
    assert r.status_code == 200, r.text
    return r


def test_a_segment_of_nine_customers_never_shows(client: TestClient, hub: Hub) -> None:
    """Nine customers grant by phone (each twice, with a withdrawal between: still nine); ten
    grant on the web. The call centre's cells show no count, in JSON or CSV; the web's do."""
    make_purpose(client)
    for n in range(19):
        cid = make_customer(client)
        phone = n < 9
        extra: dict[str, Any] = {"captured_at": (DAY + timedelta(minutes=n)).isoformat()}
        if phone:
            extra.update(source="call_centre", actor=STAFF)
        actions = ["grant", "withdraw", "grant"] if phone else ["grant"]
        for step, action in enumerate(actions):
            stamp = DAY + timedelta(minutes=n, seconds=step)
            body = {**extra, "captured_at": stamp.isoformat()}
            assert change(client, cid, action, **body).status_code == 201
    hub.outbox.integrate_all()
    insights.count_new(hub)
    cells = _flows(client).json()["cells"]
    by_source = {(c["source"], c["action"]): c for c in cells}
    assert by_source[("web", "grant")]["customers"] == 10
    for action in ("grant", "withdraw"):
        hidden = by_source[("call_centre", action)]
        assert hidden["customers"] is None and hidden["suppressed"] is True
    csv = _flows(client, format="csv")
    assert csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.splitlines()
    assert lines[0] == "period,day,purpose,channel,source,action,customers"
    assert "day,2026-11-20,newsletter,email,call_centre,grant,<10" in lines
    assert "day,2026-11-20,newsletter,email,web,grant,10" in lines
    # The week (from Monday 16th) and the month: the same customers, counted once.
    for period, start in (("week", "2026-11-16"), ("month", "2026-11-01")):
        cells = _flows(client, period=period).json()["cells"]
        web = next(c for c in cells if c["source"] == "web" and c["action"] == "grant")
        assert (web["period"], web["day"], web["customers"]) == (period, start, 10)
        assert all(c["suppressed"] for c in cells if c["source"] == "call_centre")
    assert not any(line.endswith(",9") or line.endswith(",18") for line in lines)


def test_bad_ranges_and_rights(client: TestClient, hub: Hub) -> None:
    wrong = client.get("/v1/insights/consents", params={"from": "2026-11-30", "to": "2026-11-01"})
    assert wrong.status_code == 422 and "ends before" in wrong.json()["detail"]
    long = client.get("/v1/insights/consents", params={"from": "2025-01-01", "to": "2026-11-01"})
    assert long.status_code == 422
    assert (
        client.get("/v1/insights/consents", params={"from": "nope", "to": "x"}).status_code == 422
    )
    r = client.post(
        "/v1/apps", json={"name": "crm", "scopes": ["consents:read"], "purposes": ["*"]}
    )
    crm = {"Authorization": f"Bearer {r.json()['key']}"}
    params = {"from": "2026-11-01", "to": "2026-11-02"}
    assert client.get("/v1/insights/consents", params=params, headers=crm).status_code == 403


SOURCES = ("web", "app", "call_centre")
change_steps = st.lists(
    st.tuples(
        st.integers(0, 5),  # customer
        st.sampled_from(["newsletter", "loyalty"]),
        st.sampled_from(SOURCES),
        st.sampled_from(["grant", "withdraw"]),
        st.integers(0, 3),  # day
    ),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=change_steps, runs=st.integers(1, 4))
def test_counts_equal_a_full_recount(
    client: TestClient, hub: Hub, steps: list[tuple[int, str, str, str, int]], runs: int
) -> None:
    """Random histories (backdated changes included, so some never come into force), counted
    in ``runs`` separate runs: every cell equals a recount of distinct customers over the
    changes that came into force, from the feed."""
    hub.settings.insights_k = 5
    if client.get("/v1/purposes/newsletter").status_code == 404:
        make_purpose(client)
        make_purpose(client, id="loyalty", title="Loyalty", channels=[])
    customers = [make_customer(client) for _ in range(6)]
    base = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
    for n, (who, purpose, source, action, day) in enumerate(steps):
        extra: dict[str, Any] = {
            "source": source,
            "captured_at": (base + timedelta(days=day, seconds=n)).isoformat(),
        }
        if source == "call_centre":
            extra["actor"] = STAFF
        channel = "email" if purpose == "newsletter" else None
        r = change(client, customers[who], action, purpose=purpose, channel=channel, **extra)
        assert r.status_code == 201, r.text
        if n % runs == 0:
            hub.outbox.integrate_all()
            insights.count_new(hub)
    hub.outbox.integrate_all()
    insights.count_new(hub)

    with hub.db.read() as conn:
        rows = [
            row
            for period in PERIODS
            for row in insights.store.cells(
                conn, period, date(2026, 1, 1), date(2026, 12, 31), None
            )
        ]
    counted = {
        (r.period, r.day.isoformat(), r.purpose, r.channel, r.source, r.action): r.customers
        for r in rows
    }
    assert counted == _recount_all(client)  # the examples share the database: all of it


def _recount_all(client: TestClient) -> dict[tuple[str, ...], int]:
    """Distinct customers per cell (day, week and month) over every change that came into
    force, from the feed."""
    members: dict[tuple[str, ...], set[str]] = defaultdict(set)
    cursor = None
    while True:
        params = {"limit": 1000, **({"after": cursor} if cursor else {})}
        page = client.get("/v1/changes", params=params).json()
        if not page["changes"]:
            return {cell: len(who) for cell, who in members.items()}
        for c in page["changes"]:
            data = c["data"]
            if c["type"] == "consent.changed" and data["in_force"]:
                day = datetime.fromisoformat(data["captured_at"]).astimezone(LONDON).date()
                starts = {
                    "day": day,
                    "week": day - timedelta(days=day.weekday()),
                    "month": day.replace(day=1),
                }
                rest = (data["purpose"], data["channel"] or "*", data["source"], data["action"])
                for period, start in starts.items():
                    members[(period, start.isoformat(), *rest)].add(c["customer"])
        cursor = page["next"]


def test_an_erased_customer_leaves_the_counts_but_not_the_members(
    client: TestClient, hub: Hub
) -> None:
    make_purpose(client)
    cid = make_customer(client)
    assert change(client, cid, captured_at=DAY.isoformat()).status_code == 201
    hub.outbox.integrate_all()
    insights.count_new(hub)
    member = hub.vault.blind("insights", cid)
    with hub.db.read() as conn:
        assert conn.execute(
            insights.store.members.select().where(insights.store.members.c.member == member)
        ).first()
    assert client.delete(f"/v1/customers/{cid}").status_code == 202
    # Another customer's change and erasure counted in one run: her members go too.
    other = make_customer(client)
    assert change(client, other, captured_at=DAY.isoformat()).status_code == 201
    assert client.delete(f"/v1/customers/{other}").status_code == 202
    hub.outbox.integrate_all()
    insights.count_new(hub)
    with hub.db.read() as conn:
        gone = hub.vault.blind("insights", other)
        assert not conn.execute(
            insights.store.members.select().where(insights.store.members.c.member == gone)
        ).first()
    hub.outbox.integrate_all()
    insights.count_new(hub)
    with hub.db.read() as conn:
        assert not conn.execute(
            insights.store.members.select().where(insights.store.members.c.member == member)
        ).first()
        (cell,) = insights.store.cells(conn, "day", DAY.date(), DAY.date(), None)
    assert cell.customers == 2  # a count of no one: it stays (and shows only from k up)


def test_consent_rates_hide_either_side_below_k(client: TestClient, hub: Hub) -> None:
    """25 customers: 12 grant the newsletter by e-mail (rate shown), 3 grant loyalty (hidden:
    three people said yes), 23 of them grant offers (hidden: two people said no)."""
    hub.clock = lambda: DAY
    make_purpose(client)
    make_purpose(client, id="loyalty", title="Loyalty", channels=[])
    make_purpose(client, id="offers", title="Offers", channels=[])
    for n in range(25):
        cid = make_customer(client)
        if n < 12:
            assert change(client, cid).status_code == 201
        if n < 3:
            assert change(client, cid, purpose="loyalty", channel=None).status_code == 201
        if n < 23:
            assert change(client, cid, purpose="offers", channel=None).status_code == 201
    assert insights.snapshot_levels(hub) == 3
    assert insights.snapshot_levels(hub) == 3  # the day's snapshot replaced, not doubled
    r = client.get("/v1/insights/consent-rates", params={"from": "2026-11-20", "to": "2026-11-20"})
    assert r.status_code == 200, r.text
    levels = {level["purpose"]: level for level in r.json()["levels"]}
    assert levels["newsletter"] == {
        "day": "2026-11-20",
        "purpose": "newsletter",
        "channel": "email",
        "customers": 25,
        "granted": 12,
        "rate": 0.48,
        "suppressed": False,
    }
    for hidden in ("loyalty", "offers"):
        assert levels[hidden]["granted"] is None and levels[hidden]["rate"] is None
        assert levels[hidden]["suppressed"] is True and levels[hidden]["channel"] == "*"
    csv = client.get(
        "/v1/insights/consent-rates",
        params={"from": "2026-11-20", "to": "2026-11-20", "format": "csv"},
    ).text.splitlines()
    assert csv[0] == "day,purpose,channel,customers,granted,rate"
    assert "2026-11-20,newsletter,email,25,12,0.48" in csv
    assert "2026-11-20,offers,*,25,<10," in csv
    assert not any(",3," in line or ",23," in line for line in csv)
