"""Security review 816681f, findings 4 and 22: a consent dated before year 1000 no longer
stops the background loop for good (implausible dates are refused, timestamps always have four
digit years, each background step is isolated, a change that cannot be read is set aside);
decisions upsert their counts in one order, and a deadlock is retried, never called an outage."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select, text
from typer.testing import CliRunner

from consentry.api.app import SequencerLoop
from consentry.cli.main import app as cli
from consentry.domain.clock import rfc3339, rfc3339_micros, to_micros
from consentry.services import insights
from consentry.services.hub import Hub
from consentry.store import insight_counts as count_store
from consentry.store import outbox as outbox_store
from consentry.store.tables import access_log, insight_daily
from tests.helpers import change, make_customer, make_purpose
from tests.integration.test_import import point_cli_at


def test_timestamps_always_have_four_digit_years() -> None:
    year_one = datetime(1, 1, 1, tzinfo=UTC)
    assert rfc3339_micros(to_micros(year_one)) == "0001-01-01T00:00:00Z"
    assert rfc3339_micros(to_micros(datetime(999, 12, 31, 23, 59, 59, 5, tzinfo=UTC))) == (
        "0999-12-31T23:59:59.000005Z"
    )
    assert rfc3339(year_one) == "0001-01-01T00:00:00Z"


@pytest.mark.parametrize(
    "captured_at", ["0001-01-01T00:00:00Z", "0999-06-01T00:00:00Z", "1999-12-31T23:59:59Z"]
)
def test_an_implausible_capture_date_is_refused(client: TestClient, captured_at: str) -> None:
    make_purpose(client)
    cid = make_customer(client)
    r = change(client, cid, captured_at=captured_at)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["loc"] == ["captured_at"]
    assert client.get(f"/v1/customers/{cid}/consents/history").json()["records"] == []
    assert change(client, cid, captured_at="2000-01-01T00:00:00Z").status_code == 201


def test_an_event_before_the_earliest_date_is_reported_not_kept(client: TestClient) -> None:
    cid = make_customer(client)
    events = [
        {"customer": cid, "type": "purchase", "time": "0001-01-01T00:00:00Z", "sku": "X"},
        {"customer": cid, "type": "purchase", "time": "2026-11-20T10:00:00Z", "sku": "Y"},
    ]
    r = client.post("/v1/events", json={"events": events}).json()
    assert r["accepted"] == 1 and r["errors"][0]["index"] == 0
    assert "check the year" in r["errors"][0]["reason"]


def test_an_import_row_dated_year_one_is_a_bad_line(
    client: TestClient, hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_purpose(client)
    point_cli_at(hub, monkeypatch)
    path = tmp_path / "old.csv"
    path.write_text(
        "email,purpose,channel,action,captured_at\n"
        "ann@example.com,newsletter,email,grant,0001-01-01T00:00:00Z\n"
        "bob@example.com,newsletter,email,grant,2025-01-01T00:00:00Z\n"
    )
    result = CliRunner().invoke(cli, ["import", "consents", str(path)])
    assert "imported 1" in result.output and "bad 1" in result.output
    assert "line 2:" in result.output and "check the year" in result.output


def test_a_change_that_cannot_be_read_is_set_aside_and_the_rest_counted(
    client: TestClient, hub: Hub
) -> None:
    make_purpose(client)
    cid = make_customer(client)
    # A change written by an earlier version: its year-1 date was formatted "1-01-01".
    poison = {
        "purpose": "newsletter",
        "channel": "email",
        "action": "grant",
        "in_force": True,
        "captured_at": "1-01-01T00:00:00Z",
        "source": "web",
    }
    with hub.db.write() as conn:
        outbox_store.append(conn, "consent.changed", cid, "newsletter", poison, hub.now_micros())
    assert change(client, cid).status_code == 201
    hub.outbox.integrate_all()
    assert insights.count_new(hub) == 2  # both read: one set aside, one counted
    assert insights.count_new(hub) == 0  # and the poison is not read again


class _BrokenFirstStep(SequencerLoop):
    def steps(self):  # type: ignore[no-untyped-def]
        def broken() -> None:
            raise ValueError("a step that always fails")

        return [("broken", broken), *super().steps()]


def _poison(hub: Hub, cid: str) -> None:
    body = {"purpose": "newsletter", "channel": "email", "action": "grant", "in_force": True}
    with hub.db.write() as conn:
        outbox_store.append(
            conn,
            "consent.changed",
            cid,
            "newsletter",
            {**body, "captured_at": "1-01-01T00:00:00Z", "source": "web"},
            hub.now_micros(),
        )


@pytest.mark.parametrize("loop_kind", [SequencerLoop, _BrokenFirstStep])
def test_a_failing_background_step_stops_no_other(
    client: TestClient, hub: Hub, loop_kind: type[SequencerLoop]
) -> None:
    """The server's own loop, with a change that 816681f could not read in its outbox (its
    insights step failed, and the access log behind it was never written again), and with a
    step that always fails."""
    make_purpose(client)
    cid = make_customer(client, identifiers={"email": "ann@example.com"})
    _poison(hub, cid)
    assert client.get(f"/v1/customers/{cid}").status_code == 200  # an access-log entry
    loop = loop_kind(hub)
    loop.start()
    try:
        deadline = time.monotonic() + 10
        written = 0
        while time.monotonic() < deadline and not written:
            time.sleep(0.1)
            with hub.db.read() as conn:
                written = conn.execute(select(func.count()).select_from(access_log)).scalar_one()
        assert written >= 1  # the access log was flushed past the broken step
    finally:
        loop.stop()


def _cells(day: date, member: str, keys: list[str]) -> list[dict[str, object]]:
    return [{"day": day, "metric": "chosen", "key": k, "member": member, "amount": 1} for k in keys]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite: one writer
def test_counts_lock_shared_cells_in_one_order(hub: Hub, database_url: str) -> None:
    """T1 holds cell A; T2 counts B then A; T1 then counts B. In the order given, T2 would
    hold B and wait for A while T1 waits for B: a deadlock. In key order T2 waits for A
    holding nothing, and both commit."""
    day = date(2026, 11, 20)
    failures: list[BaseException] = []
    t1_holds_a = threading.Event()

    def second() -> None:
        t1_holds_a.wait()
        try:
            with hub.db.write() as conn:
                conn.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
                count_store.count(conn, _cells(day, "m2", ["offer-b", "offer-a"]))
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=second)
    worker.start()
    try:
        with hub.db.write() as conn:
            conn.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
            count_store.count(conn, _cells(day, "m1", ["offer-a"]))
            t1_holds_a.set()
            time.sleep(0.5)  # T2 is now waiting
            count_store.count(conn, _cells(day, "m1", ["offer-b"]))
    finally:
        worker.join(10)
    assert failures == []
    with hub.db.read() as conn:
        rows = conn.execute(select(insight_daily.c.key, insight_daily.c.customers)).all()
    assert sorted(rows) == [("offer-a", 2), ("offer-b", 2)]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_deadlock_is_run_again_not_reported(hub: Hub, database_url: str) -> None:
    """Two transactions lock two rows in opposite orders; PostgreSQL kills one; the server
    runs it again (Database.transact) and both land."""
    with hub.db.write() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t_deadlock (id int PRIMARY KEY, n int)"))
        conn.execute(text("DELETE FROM t_deadlock"))
        conn.execute(text("INSERT INTO t_deadlock VALUES (1, 0), (2, 0)"))
    both = threading.Barrier(2)
    attempts: list[int] = []
    failures: list[BaseException] = []

    def work(first: int, second: int) -> object:
        def transaction(conn: Connection) -> None:
            attempts.append(first)
            conn.execute(text("SET LOCAL deadlock_timeout = '100ms'"))
            conn.execute(text("UPDATE t_deadlock SET n = n + 1 WHERE id = :i"), {"i": first})
            if len(attempts) <= 2:
                both.wait(5)  # only the first round is forced into the cycle
            conn.execute(text("UPDATE t_deadlock SET n = n + 1 WHERE id = :i"), {"i": second})

        try:
            return hub.db.transact(transaction)
        except BaseException as exc:
            failures.append(exc)
            return None

    threads = [threading.Thread(target=work, args=p) for p in ((1, 2), (2, 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert failures == [], [type(f).__name__ for f in failures]
    assert len(attempts) == 3  # one of the two ran twice
    with hub.db.read() as conn:
        assert conn.execute(text("SELECT sum(n) FROM t_deadlock")).scalar_one() == 4
    with hub.db.write() as conn:
        conn.execute(text("DROP TABLE t_deadlock"))
    assert psycopg.errors.DeadlockDetected  # the error the retry is for
