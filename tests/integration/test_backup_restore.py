"""Backups that keep erasures erased, on both engines: back up, erase three customers, restore
the old backup — the server refuses to serve until the erasure journal is replayed; then the
three stay erased (410, checks say erased, no data key, no identifiers), everyone else intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from consentry.api.app import create_app
from consentry.cli.main import app as cli
from consentry.services import backups
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import identifiers as identifiers_table
from tests.conftest import ADMIN_KEY
from tests.helpers import NEWSLETTER, change


def _client(hub: Hub) -> TestClient:
    client = TestClient(create_app(hub, run_sequencer=False))
    client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
    return client


def point_cli_at(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("CONSENTRY_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CONSENTRY_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("CONSENTRY_ADMIN_KEY", ADMIN_KEY)


def _email(n: int) -> str:
    return f"customer{n}@example.com"


def test_a_restored_backup_brings_no_erased_customer_back(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = Hub.open(settings)
    with _client(hub) as client:
        assert client.post("/v1/purposes", json=NEWSLETTER).status_code == 201
        ids = []
        for n in range(6):
            made = client.post("/v1/customers", json={"identifiers": {"email": _email(n)}})
            ids.append(made.json()["id"])
            assert change(client, ids[-1]).status_code == 201
        manifest = backups.backup(hub, tmp_path / "backup")
        assert manifest["log_size"] == 6 and set(manifest["files"]) == {"database", "keystore"}
        for cid in ids[:3]:
            assert client.delete(f"/v1/customers/{cid}").status_code == 202
    hub.close()

    backups.restore(settings, tmp_path / "backup")
    hub = Hub.open(settings)
    try:
        missed = {m.customer_id for m in backups.outstanding(hub)}
        assert missed == set(ids[:3])  # the backup still holds them
        with pytest.raises(RuntimeError, match="3 customers erased since"), _client(hub):
            pass  # the server refuses to start
        point_cli_at(monkeypatch, settings)
        refused = CliRunner().invoke(cli, ["serve", "--port", "1"])
        assert refused.exit_code == 2 and "replay-erasures" in refused.output

        assert backups.replay(hub) == 3
        assert backups.outstanding(hub) == []
        with _client(hub) as client:
            for cid in ids[:3]:
                assert client.get(f"/v1/customers/{cid}").status_code == 410
                check = client.get(
                    "/v1/check",
                    params={"customer": cid, "purpose": "newsletter", "channel": "email"},
                ).json()
                assert check["allowed"] is False and check["reason"] == "erased"
            for n, cid in enumerate(ids[3:], start=3):
                profile: dict[str, Any] = client.get(f"/v1/customers/{cid}").json()
                assert profile["identifiers"]["email"] == _email(n)
                found = client.post("/v1/customers/lookup", json={"email": _email(n)})
                assert found.json() == {"id": cid}
        assert hub.vault.keystore.get_many(ids[:3]) == {}
        with hub.db.read() as conn:
            left = conn.execute(
                select(func.count())
                .select_from(identifiers_table)
                .where(identifiers_table.c.customer_id.in_(ids[:3]))
            ).scalar()
        assert left == 0
    finally:
        hub.close()


def test_the_commands_back_up_and_restore(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = Hub.open(settings)
    with _client(hub) as client:
        assert client.post("/v1/purposes", json=NEWSLETTER).status_code == 201
        cid = client.post("/v1/customers", json={"identifiers": {"email": _email(9)}}).json()["id"]
    hub.close()
    point_cli_at(monkeypatch, settings)
    runner = CliRunner()
    made = runner.invoke(cli, ["backup", str(tmp_path / "b")])
    assert made.exit_code == 0 and "backed up" in made.output, made.output
    again = runner.invoke(cli, ["backup", str(tmp_path / "b")])
    assert again.exit_code == 2 and "exists" in again.output
    hub = Hub.open(settings)
    with _client(hub) as client:
        assert client.delete(f"/v1/customers/{cid}").status_code == 202
    hub.close()
    restored = runner.invoke(cli, ["restore", str(tmp_path / "b")])
    assert restored.exit_code == 0 and "erased again 1 customers" in restored.output, (
        restored.output
    )
    nothing = runner.invoke(cli, ["restore", str(tmp_path / "nothing")])
    assert nothing.exit_code == 2 and "manifest" in nothing.output
    hub = Hub.open(settings)
    try:
        assert backups.outstanding(hub) == []
    finally:
        hub.close()
