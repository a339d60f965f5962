"""Retention policies, and the vault's commands: keys rotate, retention run, a wrong key."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from consentry.cli.main import app
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.domain.clock import to_micros
from consentry.services import key_rotation, retention
from consentry.services.hub import Hub
from consentry.store.tables import access_log, customers, idempotency_keys
from consentry.vault.master import MasterKeys
from tests.helpers import GRANT, check, make_purpose
from tests.integration.test_import import point_cli_at

runner = CliRunner()
ADMIN = Caller("app_x", "crm", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))


def test_retention_deletes_what_is_past_its_time(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    subscriber = client.post("/v1/customers", json={"identifiers": {"email": "s@example.com"}})
    sub_id = subscriber.json()["id"]
    assert client.post(f"/v1/customers/{sub_id}/consents", json=GRANT).status_code == 201
    idle = client.post("/v1/customers", json={"identifiers": {"email": "idle@example.com"}}).json()[
        "id"
    ]
    recent = client.post("/v1/customers", json={}, headers={"Idempotency-Key": "k"}).json()["id"]
    client.post("/v1/customers/lookup", json={"email": "idle@example.com"})
    hub.access.flush()
    real_clock = hub.clock
    later = real_clock() + timedelta(days=hub.settings.retention_inactive_customer_days + 1)
    # An orphan key, made two hours before the sweep: stored, but its customer never committed.
    hub.vault.new_keys(["cus_nevercommitted0000000000"], to_micros(later) - 7_200_000_000)
    hub.clock = lambda: later
    # The newest customer was made "later" too: only the two older ones are three years idle.
    with hub.db.write() as conn:
        conn.execute(
            customers.update().where(customers.c.id == recent).values(created_at=hub.now_micros())
        )
    report = retention.run(hub)
    assert report.customers_erased == 1  # idle; the subscriber has a grant in force
    assert report.access_entries == 1 and report.stored_answers == 1
    assert report.orphan_keys == 1
    assert client.get(f"/v1/customers/{idle}").status_code == 410
    assert client.get(f"/v1/customers/{sub_id}").status_code == 200
    assert client.get(f"/v1/customers/{recent}").status_code == 200
    with hub.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(access_log)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(idempotency_keys)).scalar() == 0
    # Run again (as after an interruption): nothing more to do, nothing breaks.
    assert retention.run(hub) == retention.RetentionReport()
    hub.clock = real_clock
    assert check(client, sub_id)["allowed"] is True


def test_cli_rotates_keys_and_runs_retention(
    hub: Hub, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_cli_at(hub, monkeypatch)
    ids = [client.post("/v1/customers", json={}).json()["id"] for _ in range(12)]
    before = hub.vault.master.current
    rotated = runner.invoke(app, ["keys", "rotate", "--batch", "5"])
    assert rotated.exit_code == 0, rotated.output
    assert "re-wrapped 12 data keys" in rotated.output and "destroyed" not in rotated.output
    keys = MasterKeys.load(hub.settings.resolved_master_key_file)
    # Retired, not destroyed: a key store restored from a backup of the last 35 days needs it.
    assert before in keys.keks and before in keys.retired and len(keys.keks) == 2
    keys.retired[before] -= 36 * 86_400  # the backup retention has passed
    keys.save()
    again = runner.invoke(app, ["keys", "rotate", "--batch", "5"])
    assert again.exit_code == 0 and f"destroyed {before}" in again.output, again.output
    keys = MasterKeys.load(hub.settings.resolved_master_key_file)
    assert before not in keys.keks and len(keys.keks) == 2  # the two newest
    # The running hub learns the new key from the file when it meets it.
    assert client.get(f"/v1/customers/{ids[0]}").status_code == 200
    ran = runner.invoke(app, ["retention", "run"])
    assert ran.exit_code == 0 and "erased 0 inactive customers" in ran.output


def test_cli_refuses_a_missing_master_key_with_a_clear_message(
    hub: Hub, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_cli_at(hub, monkeypatch)
    client.post("/v1/customers", json={"name": "Ann"})
    key_file = hub.settings.resolved_master_key_file
    shutil.move(key_file, key_file.with_name("elsewhere.key"))
    result = runner.invoke(app, ["retention", "run"])
    assert result.exit_code == 2
    assert "the vault cannot be opened" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output


def test_an_interrupted_rotation_resumes(hub: Hub, client: TestClient) -> None:
    ids = [client.post("/v1/customers", json={"name": f"N{n}"}).json()["id"] for n in range(20)]
    first = hub.vault.master.current

    def crash(done: int, _total: int) -> None:
        if done >= 5:
            raise KeyboardInterrupt  # the operator's ^C, or a crash, after the first batch

    with pytest.raises(KeyboardInterrupt):
        hub.vault.rotate(batch=5, progress=crash)
    halfway = hub.vault.keystore.kek_ids()
    assert halfway[first] == 15 and sum(halfway.values()) == 20  # both KEKs in use meanwhile
    assert all(client.get(f"/v1/customers/{cid}").status_code == 200 for cid in ids)
    done, retired = hub.vault.rotate(batch=5)
    assert done == 15 and retired == [first]
    assert set(hub.vault.keystore.kek_ids()) == {hub.vault.master.current}
    assert client.get(f"/v1/customers/{ids[-1]}").json()["name"] == "N19"


def test_one_process_at_a_time_runs_the_background_jobs(hub: Hub) -> None:
    from consentry.store.database import Database

    other = Database(hub.db.url.render_as_string(hide_password=False))  # "another process"
    try:
        with (
            hub.db.try_exclusive("retention", 0x72657465) as first,
            other.try_exclusive("retention", 0x72657465) as second,
        ):
            assert first is True and second is False
        with other.try_exclusive("retention", 0x72657465) as later:
            assert later is True
    finally:
        other.dispose()


def test_the_master_key_rotates_on_schedule_and_old_keks_go_after_the_retention(
    hub: Hub, client: TestClient
) -> None:
    ids = [client.post("/v1/customers", json={}).json()["id"] for _ in range(3)]
    first = hub.vault.master.current
    assert key_rotation.rotate_if_due(hub) is None  # a new key is not due
    hub.vault.master.made[first] -= 31 * 86_400  # thirty-one days later
    hub.vault.master.save()
    done, destroyed = key_rotation.rotate_if_due(hub) or (0, ["?"])
    assert done == 3 and destroyed == []
    second = hub.vault.master.current
    assert second != first and first in hub.vault.master.retired
    assert hub.vault.keystore.kek_ids() == {second: 3}
    assert client.get(f"/v1/customers/{ids[0]}").status_code == 200
    assert key_rotation.rotate_if_due(hub) is None  # nothing more is due
    hub.vault.master.retired[first] -= 36 * 86_400  # the backup retention has passed
    hub.vault.master.save()
    assert key_rotation.rotate_if_due(hub) == (0, [first])
    assert set(MasterKeys.load(hub.settings.resolved_master_key_file).keks) == {second}
