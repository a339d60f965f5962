"""Security review 816681f, finding 20: an erasure also deletes the mails kept in the outbox
about the customer, and every other process's vault forgets the customer's key at once (a
shared signal: a file beside an SQLite key store, NOTIFY on a PostgreSQL one), not after the
cache's five minutes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.vault.errors import KeyGone
from tests.conftest import ADMIN_KEY
from tests.helpers import make_customer


def test_the_outbox_keeps_no_mail_of_an_erased_customer(hub: Hub, client: TestClient) -> None:
    ann = make_customer(client, identifiers={"email": "ann@example.com"})
    bob = make_customer(client, identifiers={"email": "bob@example.com"})
    visitor = TestClient(client.app)
    for address in ("ann@example.com", "bob@example.com"):
        assert visitor.post("/p/request", data={"email": address}).status_code == 200
    outbox = Path(hub.settings.data_dir) / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 2
    assert client.delete(f"/v1/customers/{ann}").status_code == 202
    [kept] = list(outbox.glob("*.eml"))
    assert b"bob@example.com" in kept.read_bytes() and b"ann@example.com" not in kept.read_bytes()
    assert bob


def _second_process(settings: Settings) -> Hub:
    """Another server process on the same data: its own vault, its own key cache."""
    return Hub.open(settings.model_copy(), migrate_schema=False)


def test_another_process_forgets_the_key_at_once(hub: Hub, client: TestClient) -> None:
    cid = make_customer(client, identifiers={"email": "ann@example.com"})
    other = _second_process(hub.settings)
    try:
        assert other.vault.key(cid) is not None  # cached there now
        assert client.delete(f"/v1/customers/{cid}").status_code == 202
        with pytest.raises(KeyGone):
            other.vault.key(cid)
        assert other.vault.keys([cid]) == {}
    finally:
        other.close()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_processes_sharing_a_postgres_key_store_are_told(tmp_path: Path, database_url: str) -> None:
    settings = Settings(
        data_dir=tmp_path / "pg",
        database_url=database_url,
        keystore_url=database_url,
        admin_key=ADMIN_KEY,
    )
    first = Hub.open(settings)
    second = _second_process(settings)
    try:
        cids = [f"cus_erase_{n}" for n in range(250)]  # more than one NOTIFY's worth
        first.vault.new_keys(cids, first.now_micros())
        signal = second.vault._erased  # its LISTEN connection must be up, or it would
        deadline = time.monotonic() + 5  # drop its whole cache anyway (proving nothing here)
        while not getattr(signal, "_listening", False) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(second.vault.keys(cids)) == 250  # cached in the second process
        assert len(second.vault.keys(cids)) == 250
        first.vault.shred(cids)
        deadline = time.monotonic() + 5
        while second.vault.keys(cids) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert second.vault.keys(cids) == {}
    finally:
        second.close()
        first.close()


class _Reconnected:
    """What a PostgreSQL signal drains after its LISTEN connection came back: "everything"
    (what was said while it was down) and the ids heard since."""

    def drain(self) -> list[str]:
        return ["*", "cus_heard_since"]

    def announce(self, customer_ids: list[str]) -> None:
        pass

    def close(self) -> None:
        pass


def test_after_a_reconnect_the_whole_cache_is_forgotten(hub: Hub, client: TestClient) -> None:
    cid = make_customer(client)
    hub.vault.keys([cid])  # cached
    hub.vault.keystore.delete([cid])  # destroyed by a process whose notice was missed
    hub.vault._erased = _Reconnected()  # type: ignore[assignment]
    with pytest.raises(KeyGone):
        hub.vault.key(cid)
