"""consentry import consents: good rows kept, bad rows named by line, re-runs add nothing."""

from __future__ import annotations

import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentry.cli.main import app
from consentry.services.hub import Hub
from consentry.services.import_workers import ImportFailed, import_in_parallel
from consentry.services.importer import IMPORT_LOCK, ImportReport
from tests.helpers import change, check, make_customer, make_purpose

CSV = """email,purpose,channel,action,captured_at,location,external_id
ann@example.com,newsletter,email,grant,2025-03-01T10:00:00Z,store-1,old-1
ann@example.com,newsletter,email,withdraw,2025-06-01T10:00:00Z,,old-2
bob@example.com,newsletter,,grant,2025-04-01T10:00:00Z,,old-3
bob@example.com,nope,email,grant,2025-04-01T10:00:00Z,,old-4
carol@example.com,newsletter,fax,grant,2025-04-01T10:00:00Z,,old-5
dan@example.com,newsletter,email,maybe,2025-04-01T10:00:00Z,,old-6
,newsletter,email,grant,2025-04-01T10:00:00Z,,old-7
eve@example.com,newsletter,email,grant,not-a-date,,old-8
"""


def point_cli_at(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI open the test's database."""
    monkeypatch.setenv("CONSENTRY_DATA_DIR", str(hub.settings.data_dir))
    monkeypatch.setenv("CONSENTRY_DATABASE_URL", hub.db.url.render_as_string(hide_password=False))


def test_import_consents_csv_twice(
    client: TestClient, hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_purpose(client)
    point_cli_at(hub, monkeypatch)
    path = tmp_path / "old.csv"
    path.write_text(CSV)
    runner = CliRunner()
    first = runner.invoke(app, ["import", "consents", str(path)])
    assert first.exit_code == 1
    assert "imported 3, already imported 0, bad 5, customers created 2" in first.output
    for line, word in (
        (5, "nope"),
        (6, "fax"),
        (7, "action"),
        (8, "name the customer"),
        (9, "captured_at"),
    ):
        assert f"line {line}:" in first.output and word in first.output.split(f"line {line}:")[1]
    again = runner.invoke(app, ["import", "consents", str(path)])
    assert "imported 0, already imported 3" in again.output
    ann = client.post("/v1/customers/lookup", json={"email": "ann@example.com"}).json()["id"]
    assert check(client, ann)["reason"] == "withdrawn"
    bob = client.post("/v1/customers/lookup", json={"email": "bob@example.com"}).json()["id"]
    assert check(client, bob, channel="post")["reason"] == "granted"
    history = client.get(f"/v1/customers/{ann}/consents/history").json()["records"]
    assert [r["source"] for r in history] == ["import", "import"]
    assert history[0]["captured_at"] == "2025-03-01T10:00:00Z"


def test_import_ndjson_with_unreadable_lines(
    client: TestClient, hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_purpose(client)
    point_cli_at(hub, monkeypatch)
    path = tmp_path / "old.ndjson"
    path.write_text(
        '{"loyalty_card": "6001", "purpose": "newsletter", "action": "grant", '
        '"captured_at": "2025-01-01T00:00:00Z"}\n{oops\n[1]\n'
    )
    result = CliRunner().invoke(app, ["import", "consents", str(path)])
    assert "imported 1" in result.output and "line 2:" in result.output
    assert "line 3:" in result.output


def test_confirmed_grants_import_as_confirmed(
    client: TestClient, hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double opt-in confirmed in the other system: in force at once, its confirmation kept
    as the grant's provenance; no request can be imported (it could never be confirmed)."""
    make_purpose(client, confirmations={"email": "email"})
    point_cli_at(hub, monkeypatch)
    path = tmp_path / "confirmed.ndjson"
    grant = {
        "email": "c@example.com",
        "purpose": "newsletter",
        "channel": "email",
        "action": "grant",
        "captured_at": "2025-01-01T10:00:00Z",
        "confirmed_at": "2025-01-01T12:30:00Z",
    }
    rows = [grant, {**grant, "email": "d@example.com", "action": "request"}]
    rows.append({**grant, "email": "e@example.com", "action": "withdraw"})
    path.write_text("\n".join(orjson.dumps(r).decode() for r in rows) + "\n")
    result = CliRunner().invoke(app, ["import", "consents", str(path)])
    assert "imported 1" in result.output, result.output
    assert "line 2:" in result.output and "import grants" in result.output
    assert "line 3:" in result.output and "only a grant" in result.output
    cid = client.post("/v1/customers/lookup", json={"email": "c@example.com"}).json()["id"]
    assert check(client, cid)["reason"] == "granted"
    [record] = client.get(f"/v1/customers/{cid}/consents/history").json()["records"]
    assert record["action"] == "grant" and record["source"] == "import"
    assert record["proof"] == {"method": "double-opt-in", "confirmed_at": "2025-01-01T12:30:00Z"}


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_file_that_is_not_utf8_is_a_clear_error(
    client: TestClient,
    hub: Hub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    workers: str,
) -> None:
    """A CLI error naming what to fix; workers started for the file stop first, quietly."""
    make_purpose(client)
    point_cli_at(hub, monkeypatch)
    path = tmp_path / "latin1.csv"
    path.write_bytes(CSV.encode().replace(b"dan@", "dän@".encode("latin-1")))
    result = CliRunner().invoke(app, ["import", "consents", str(path), "--workers", workers])
    assert result.exit_code == 2
    assert "is not UTF-8 text" in result.output and "Traceback" not in result.output
    assert multiprocessing.active_children() == []
    assert "Traceback" not in capfd.readouterr().err


def test_import_updates_existing_state_and_keeps_backdated_rows_as_evidence(
    client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    """An imported change later than the customer's state replaces it (an existing state
    row updated); one captured earlier is kept as evidence and announced as not in force."""
    from consentry.services.importer import import_consents

    make_purpose(client)
    people = [make_customer(client, identifiers={"email": f"p{n}@example.com"}) for n in range(3)]
    for person in people:
        r = change(client, person, captured_at="2025-03-01T10:00:00Z")
        assert r.status_code == 201, r.text
    path = tmp_path / "old.csv"
    path.write_text(
        "email,purpose,channel,action,captured_at\n"
        "p0@example.com,newsletter,email,withdraw,2025-06-01T10:00:00Z\n"
        "p1@example.com,newsletter,email,withdraw,2024-12-01T10:00:00Z\n"
        "p2@example.com,newsletter,,withdraw,2025-07-01T10:00:00Z\n"
        "p3@example.com,newsletter,sms,grant,2025-07-01T10:00:00Z\n"
    )
    report = import_consents(hub, path)
    assert (report.imported, report.customers_created, report.errors) == (4, 1, [])
    assert [check(client, p)["reason"] for p in people] == ["withdrawn", "granted", "withdrawn"]
    newcomer = client.post("/v1/customers/lookup", json={"email": "p3@example.com"}).json()["id"]
    assert check(client, newcomer, channel="sms")["reason"] == "granted"
    hub.outbox.integrate_all()
    imported = [
        (c["customer"], c["data"]["captured_at"], c["data"]["in_force"], c["data"]["source"])
        for c in client.get("/v1/changes", params={"limit": 100}).json()["changes"]
        if c["data"].get("source") == "import"
    ]
    assert imported == [
        (people[0], "2025-06-01T10:00:00Z", True, "import"),
        (people[1], "2024-12-01T10:00:00Z", False, "import"),
        (people[2], "2025-07-01T10:00:00Z", True, "import"),
        (newcomer, "2025-07-01T10:00:00Z", True, "import"),
    ]


def test_a_change_made_while_a_chunk_is_planned_is_decided_against(
    client: TestClient, hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The importer decides a chunk's state outside the write lock, against the state it
    read; a change recorded between that read and the write is weighed under the lock."""
    from consentry.services import importer

    make_purpose(client)
    person = make_customer(client, identifiers={"email": "p0@example.com"})
    assert change(client, person, captured_at="2025-03-01T10:00:00Z").status_code == 201
    planned = importer._plan

    def plan_then_change(*args: object) -> importer._Plan:
        made = planned(*args)  # type: ignore[arg-type]
        if not getattr(plan_then_change, "done", False):
            plan_then_change.done = True  # type: ignore[attr-defined]
            later = change(client, person, captured_at="2025-09-01T10:00:00Z")
            assert later.status_code == 201, later.text
        return made

    monkeypatch.setattr(importer, "_plan", plan_then_change)
    path = tmp_path / "old.csv"
    path.write_text(
        "email,purpose,channel,action,captured_at\n"
        "p0@example.com,newsletter,email,withdraw,2025-06-01T10:00:00Z\n"
    )
    report = importer.import_consents(hub, path)
    assert (report.imported, report.errors) == (1, [])
    assert check(client, person)["reason"] == "granted"  # the change of September stands
    hub.outbox.integrate_all()
    imported = [
        c["data"]["in_force"]
        for c in client.get("/v1/changes", params={"limit": 100}).json()["changes"]
        if c["data"].get("source") == "import"
    ]
    assert imported == [False]


PEOPLE = """email,phone,purpose,channel,action,captured_at,external_id
ann@example.com,+447700900001,newsletter,sms,grant,2025-01-01T10:00:00Z,a-1
,+447700900001,newsletter,email,grant,2025-01-02T10:00:00Z,a-2
ann@example.com,,newsletter,email,withdraw,2025-01-03T10:00:00Z,a-3
,+447700900001,newsletter,email,grant,2025-01-04T10:00:00Z,a-4
bob@example.com,,newsletter,email,grant,2025-01-01T10:00:00Z,shared
cy@example.com,,newsletter,email,grant,2025-01-01T10:00:00Z,shared
dee@example.com,,newsletter,fax,grant,2025-01-01T10:00:00Z,d-1
"""


def test_import_with_workers_shares_rows_out_by_customer(
    client: TestClient, hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three worker processes: the rows naming Ann by both identifiers, by phone only and by
    e-mail only go to one worker, so she is created once and her records apply in file order;
    the second row of an external id is "already imported"; a bad row is reported by its
    line; a re-run adds nothing."""
    make_purpose(client)
    point_cli_at(hub, monkeypatch)
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE)
    runner = CliRunner()
    first = runner.invoke(app, ["import", "consents", str(path), "--workers", "3"])
    assert first.exit_code == 1, first.output
    assert "imported 5, already imported 1, bad 1, customers created 2" in first.output
    assert "line 8:" in first.output and "fax" in first.output.split("line 8:")[1]
    # Sequenced while the workers imported, and at the end: every record is in a signed head.
    assert client.get("/v1/evidence/head").json()["size"] == 5
    ann = client.post("/v1/customers/lookup", json={"email": "ann@example.com"}).json()["id"]
    by_phone = client.post("/v1/customers/lookup", json={"phone": "+447700900001"}).json()
    assert by_phone["id"] == ann
    assert check(client, ann, channel="sms")["reason"] == "granted"
    assert check(client, ann)["reason"] == "granted"  # the 4 January grant is the latest
    history = client.get(f"/v1/customers/{ann}/consents/history").json()["records"]
    assert [r["captured_at"][:10] for r in history] == [
        "2025-01-01",
        "2025-01-02",
        "2025-01-03",
        "2025-01-04",
    ]
    again = runner.invoke(app, ["import", "consents", str(path), "--workers", "2"])
    assert "imported 0, already imported 6, bad 1, customers created 0" in again.output


@pytest.mark.slow
def test_two_imports_of_one_file_at_once_import_each_row_once(
    client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    """Two `consentry import consents` of the same file started together (an operator's
    slip): their chunks are planned outside the write lock, so both plan the same rows; under
    the lock the second finds them imported and plans again. Every row is imported once,
    every customer created once, nothing fails."""
    make_purpose(client)
    path = tmp_path / "big.csv"
    with path.open("w") as out:
        out.write("email,purpose,channel,action,captured_at,external_id\n")
        for n in range(24_000):
            action = "grant" if n % 3 else "withdraw"
            out.write(
                f"p{n // 2}@example.com,newsletter,email,{action},"
                f"2025-01-{1 + n % 28:02d}T10:00:00Z,row-{n}\n"
            )
    env = {
        **os.environ,
        "CONSENTRY_DATA_DIR": str(hub.settings.data_dir),
        "CONSENTRY_DATABASE_URL": hub.db.url.render_as_string(hide_password=False),
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "consentry.cli", "import", "consents", str(path)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    counts = [
        re.search(
            r"imported (\d+), already imported (\d+), bad (\d+), customers created (\d+)", out
        )
        for out, _ in outputs
    ]
    imported, already, bad, created = (
        sum(int(m.group(i)) for m in counts if m) for i in range(1, 5)
    )
    assert (imported, already, bad, created) == (24_000, 24_000, 0, 12_000)
    ann = client.post("/v1/customers/lookup", json={"email": "p7@example.com"}).json()["id"]
    history = client.get(f"/v1/customers/{ann}/consents/history").json()["records"]
    assert len(history) == 2


def test_import_records_the_notice_version_each_row_names(
    client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    """A row may name an older notice version (what the customer saw back then); its record
    carries that version's notice hash, a row without one the current version's."""
    from consentry.services.importer import import_consents

    first = make_purpose(client)
    second = client.put("/v1/purposes/newsletter", json={"description": "Now weekly."}).json()
    path = tmp_path / "old.csv"
    path.write_text(
        "email,purpose,channel,action,captured_at,notice_version\n"
        "ann@example.com,newsletter,email,grant,2025-01-01T10:00:00Z,1\n"
        "ann@example.com,newsletter,sms,grant,2025-01-02T10:00:00Z,1\n"
        "ann@example.com,newsletter,post,grant,2025-01-03T10:00:00Z,\n"
        "ann@example.com,newsletter,email,grant,2025-01-04T10:00:00Z,7\n"
    )
    report = import_consents(hub, path)
    assert report.imported == 3 and [line for line, _ in report.errors] == [5]
    ann = client.post("/v1/customers/lookup", json={"email": "ann@example.com"}).json()["id"]
    history = client.get(f"/v1/customers/{ann}/consents/history").json()["records"]
    assert [(r["purpose_version"], r["notice_hash"]) for r in history] == [
        (1, first["notice_hash"]),
        (1, first["notice_hash"]),
        (2, second["notice_hash"]),
    ]


@pytest.mark.slow
def test_a_worker_killed_mid_import_fails_the_import_and_a_rerun_adds_the_rest(
    client: TestClient, hub: Hub, tmp_path: Path
) -> None:
    """One of two workers is killed after the first chunk is in (as the OOM killer would):
    the import fails naming it, without waiting for ever on the other worker, whose report
    (10,000 bad rows) is larger than a pipe holds and so cannot end before it is read.
    Chunks committed stay; running the file again imports the rest, and every good row is in
    the log once."""
    make_purpose(client)
    path = tmp_path / "legacy.csv"
    with path.open("w") as out:
        out.write("email,purpose,channel,action,captured_at,external_id\n")
        for n in range(60_000):
            channel = "fax" if n % 3 == 0 else "email"  # a bad row in three
            out.write(
                f"k{n // 2}@example.com,newsletter,{channel},grant,"
                f"2025-02-{1 + n % 28:02d}T10:00:00Z,k-{n}\n"
            )
    killed: list[int] = []

    def kill_a_worker(rows: int) -> None:
        if not killed:
            workers = [
                p
                for p in multiprocessing.active_children()
                if p.name.startswith(("ForkServerProcess", "SpawnProcess"))
            ]
            assert workers and workers[0].pid is not None
            killed.append(workers[0].pid)
            os.kill(workers[0].pid, signal.SIGKILL)
            if hub.db.is_postgres:
                # The other worker waits at its next chunk while this process reads on, so the
                # dead one is found while the other still works (SQLite's lock would stop
                # this process's sequencing too).
                threading.Thread(target=hold_the_importers_lock).start()

    def hold_the_importers_lock() -> None:
        with hub.db.write() as conn:
            hub.db.advisory_lock(conn, IMPORT_LOCK)
            time.sleep(3)

    outcome: list[BaseException | ImportReport] = []

    def run() -> None:
        try:
            outcome.append(import_in_parallel(hub, path, 2, kill_a_worker))
        except BaseException as exc:
            outcome.append(exc)

    importing = threading.Thread(target=run)
    importing.start()
    importing.join(timeout=300)
    if importing.is_alive():
        for child in multiprocessing.active_children():
            child.kill()
        pytest.fail("the import waited for ever after a worker was killed")
    [failure] = outcome
    assert isinstance(failure, ImportFailed), failure
    assert "ended without a report (exit code -9)" in str(failure)

    rerun = import_in_parallel(hub, path, 2)
    good = 40_000
    assert rerun.bad == 20_000
    assert 0 < rerun.imported < good  # the surviving worker's chunks were kept
    assert rerun.imported + rerun.already_imported == good
    assert client.get("/v1/evidence/head").json()["size"] == good
