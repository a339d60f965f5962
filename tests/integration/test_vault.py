"""The personal-data vault: nothing personal in clear at rest, erasure that really erases,
restriction, the export, the access log, and a wrong or missing master key."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from consentry.audit.verify import verify_export
from consentry.domain.clock import rfc3339
from consentry.schemas.export import ExportDocument
from consentry.services import evidence, webhooks
from consentry.services.export import COVERAGE, ONLY_AFTER_ERASURE
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import identifiers, metadata
from consentry.vault.errors import KeyGone, VaultError
from consentry.vault.master import MasterKeys
from consentry.vault.vault import Vault
from tests.helpers import GRANT, change, check, make_purpose, open_link

ANN = {
    "identifiers": {
        "email": "Ann.Lee@Example.com",
        "loyalty_card": "6001234",
        "phone": "07700 900123",
    },
    "name": "Ann Lee",
    "postcode": "sw1a 1aa",
}
# Every form in which Ann's data could sit in a file: as given and as normalised.
ANN_IN_CLEAR = [
    b"Ann.Lee@Example.com",
    b"ann.lee@example.com",
    b"07700 900123",
    b"+447700900123",
    b"7700900123",
    b"6001234",
    b"Ann Lee",
    b"ann lee",
    b"sw1a 1aa",
    b"SW1A1AA",
    b"SW1A 1AA",
]


def _ann_with_history(client: TestClient) -> str:
    make_purpose(client)
    r = client.post("/v1/customers", json=ANN, headers={"Idempotency-Key": "ann-1"})
    assert r.status_code == 201, r.text
    cid = str(r.json()["id"])
    body = {
        **GRANT,
        "actor": {"type": "staff", "id": "clerk-Ann Lee"},
        "location": "store SW1A 1AA",
        "proof": {"signature": "Ann Lee", "email": "ann.lee@example.com"},
    }
    r = client.post(f"/v1/customers/{cid}/consents", json=body, headers={"Idempotency-Key": "g-1"})
    assert r.status_code == 201, r.text
    assert client.post("/v1/customers/lookup", json={"phone": "+447700900123"}).json() == {
        "id": cid
    }
    assert client.get(f"/v1/customers/{cid}").json()["name"] == "Ann Lee"
    return cid


def _sqlite_bytes(hub: Hub) -> bytes:
    """The database file and its WAL, after a checkpoint, as a thief would read them."""
    path = Path(str(hub.db.url.database))
    with hub.db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _pg_dump(hub: Hub) -> bytes:
    url = make_url(hub.db.url.render_as_string(hide_password=False)).set(drivername="postgresql")
    return subprocess.run(
        ["pg_dump", "--no-owner", url.render_as_string(hide_password=False)],
        check=True,
        capture_output=True,
    ).stdout


def _at_rest(hub: Hub) -> bytes:
    return _sqlite_bytes(hub) if hub.db.is_sqlite else _pg_dump(hub)


def _sealed_email(conn: Any) -> tuple[str, bytes]:
    row = conn.execute(
        select(identifiers.c.customer_id, identifiers.c.value_sealed).where(
            identifiers.c.kind == "email"
        )
    ).one()
    return row[0], bytes(row[1])


def test_nothing_personal_is_stored_in_clear(hub: Hub, client: TestClient) -> None:
    _ann_with_history(client)
    hub.access.flush()
    stored = _at_rest(hub)
    assert b"cus_" in stored  # the dump is real: it holds the customer's pseudonym
    for clear in ANN_IN_CLEAR:
        assert clear not in stored, clear


def test_erasure_shreds_the_key_and_keeps_the_log_verifiable(
    hub: Hub, client: TestClient, tmp_path: Path
) -> None:
    cid = _ann_with_history(client)
    # A backup taken before the erasure: a copy of the database, without the key store.
    backup_url: str
    if hub.db.is_sqlite:
        backup = tmp_path / "backup.db"
        source = sqlite3.connect(str(hub.db.url.database))
        target = sqlite3.connect(backup)
        source.backup(target)
        source.close()
        target.close()
        backup_url = f"sqlite:///{backup}"
        engine = create_engine(backup_url)
        with engine.connect() as conn:
            owner, sealed = _sealed_email(conn)
        engine.dispose()
    else:
        with hub.db.read() as conn:
            owner, sealed = _sealed_email(conn)
        dump = _pg_dump(hub)
        assert sealed.hex().encode() in dump.replace(b"\\x", b"")  # the dump holds it too
    assert owner == cid
    # Before the erasure the backup's sealed e-mail opens (the check below is not vacuous).
    assert hub.vault.unseal(cid, "email", sealed) == "ann.lee@example.com"

    erased = client.delete(f"/v1/customers/{cid}")
    assert erased.status_code == 202 and erased.json()["status"] == "erased"
    assert client.get(f"/v1/customers/{cid}").status_code == 410
    assert check(client, cid) == {
        "allowed": False,
        "reason": "erased",
        "record_id": None,
        "since": None,
    }
    for lookup in ({"email": "ann.lee@example.com"}, {"name": "Ann Lee", "postcode": "SW1A1AA"}):
        assert client.post("/v1/customers/lookup", json=lookup).status_code == 404
    assert client.delete(f"/v1/customers/{cid}").status_code == 410
    assert client.get(f"/v1/customers/{cid}/export").status_code == 410

    # The key is gone for every process: a fresh vault on the same files cannot open it.
    fresh = Vault(MasterKeys.load(hub.settings.resolved_master_key_file), hub.vault.keystore)
    with pytest.raises(KeyGone):
        fresh.unseal(cid, "email", sealed)
    with pytest.raises(KeyGone):
        hub.vault.unseal(cid, "email", sealed)

    # Nothing of Ann is left in clear, WAL included; the key store holds no key for her.
    stored = _at_rest(hub)
    for clear in ANN_IN_CLEAR:
        assert clear not in stored, clear
    assert hub.vault.keystore.get(cid) is None

    # Evidence stays, pseudonymous, and the log still verifies.
    history = client.get(f"/v1/customers/{cid}/consents/history").json()["records"]
    assert len(history) == 1 and history[0]["actor"]["id"] is None
    assert history[0]["location"] is None and history[0]["proof"] is None
    head = evidence.head(hub)
    verdict = verify_export(
        list(evidence.export_lines(hub, head.size)), head.as_json(), hub.signer.jwks()
    )
    assert verdict.ok and verdict.records == 1, verdict.problems
    proof = client.get(f"/v1/evidence/records/{history[0]['id']}/proof")
    assert proof.status_code == 200


def test_restriction_stops_every_check(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = client.post("/v1/customers", json={}).json()["id"]
    assert client.post(f"/v1/customers/{cid}/consents", json=GRANT).status_code == 201
    assert check(client, cid)["allowed"] is True
    r = client.post(f"/v1/customers/{cid}/restrict")
    assert r.status_code == 200 and r.json()["restricted"] is True
    assert check(client, cid)["reason"] == "restricted"
    assert check(client, cid)["allowed"] is False
    assert client.get(f"/v1/customers/{cid}").json()["restricted"] is True
    assert client.post(f"/v1/customers/{cid}/unrestrict").json()["restricted"] is False
    assert check(client, cid)["reason"] == "granted"
    assert check(client, cid)["allowed"] is True
    assert client.post("/v1/customers/cus_nope/restrict").status_code == 404


def _customer_tables() -> dict[str, list[str]]:
    return {
        t.name: [c.name for c in t.columns]
        for t in metadata.sorted_tables
        # The outbox names the customer as "subject": it is kept after an erasure (the erasure
        # itself must be announced) and holds no personal data, but it is about the customer.
        if t.name == "customers" or "customer_id" in t.columns or "subject" in t.columns
    }


def test_export_covers_every_table_that_holds_customer_data(hub: Hub, client: TestClient) -> None:
    cid = _ann_with_history(client)
    # A purchase of hers.
    event = {"customer": cid, "type": "purchase", "time": "2026-11-20T10:00:00Z", "sku": "X-1"}
    assert client.post("/v1/events", json={"events": [event]}).json()["accepted"] == 1
    # Her personal link, used: a preference link and a web session.
    url = client.post(f"/v1/customers/{cid}/preference-link").json()["url"]
    opened = open_link(TestClient(client.app), "/p/" + url.rsplit("/p/", 1)[1])
    assert opened.status_code == 303
    # What she told us (with its points), and her "stop asking me".
    question = {
        "id": "favourite_colour",
        "text": "What's your favourite colour?",
        "kind": "single_choice",
        "options": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}],
        "topic": "style",
        "stage": 1,
        "points": 10,
        "channels": ["web", "store"],
    }
    assert client.post("/v1/questions", json=question).status_code == 201
    answer = {
        "question": "favourite_colour",
        "value": "blue",
        "channel": "store",
        "actor": {"type": "staff", "id": "clerk-9"},
    }
    assert client.post(f"/v1/customers/{cid}/answers", json=answer).status_code == 200
    assert client.post(f"/v1/customers/{cid}/stop-asking").status_code == 200
    # A decision about which offers to show her (an offer for everyone), and her "not relevant".
    catalogue = {"categories": [{"path": "home", "name": "Home"}]}
    assert client.put("/v1/catalogue", json=catalogue).status_code == 200
    offer = {"id": "mugs", "title": "Mugs", "category": "home", "channels": ["email"]}
    assert client.post("/v1/offers", json={**offer, "everyone": True}).status_code == 201
    assert client.post(f"/v1/customers/{cid}/decisions", json={"channel": "email"}).json()["offers"]
    assert client.post(f"/v1/customers/{cid}/offers/mugs/dismiss").status_code == 200
    # A trigger that told the store's desk she came in (she allows profiling).
    for purpose in ("personalisation", "profiling"):
        make_purpose(client, id=purpose, channels=[])
        assert change(client, cid, purpose=purpose, channel=None).status_code == 201
    desk = {"id": "visit", "on": "store_visit", "then": [{"notify": "desk"}]}
    assert client.put("/v1/triggers", json={"triggers": [desk]}).status_code == 200
    offer_in_store = {**offer, "id": "cups", "title": "Cups", "channels": ["store"]}
    assert client.post("/v1/offers", json={**offer_in_store, "everyone": True}).status_code == 201
    visit = {"customer": cid, "type": "store_visit", "time": rfc3339(hub.now()), "store": "s1"}
    assert client.post("/v1/events", json={"events": [visit]}).json()["notifications"] == 1
    # A tablet at the till's collection point: her ticked box waits for her confirmation.
    make_purpose(client, id="club_news", channels=["email"], confirmations={"email": "email"})
    point = {
        "name": "Till tablet",
        "placement": "store",
        "boxes": [{"purpose": "club_news", "channel": "email"}],
        "wordings": [
            {
                "name": "a",
                "heading": {"en": "Club"},
                "labels": [{"en": "News"}],
                "submit": {"en": "OK"},
            }
        ],
    }
    made = client.post("/v1/collection-points", json=point).json()
    ticked = {"purpose": "club_news", "channel": "email", "notice_version": 1, "chosen": True}
    submission = {"version": 1, "wording": "a", "customer": cid, "choices": [ticked]}
    done = client.post(f"/v1/collection-points/{made['id']}/submissions", json=submission)
    assert done.status_code == 201 and done.json()["awaiting_confirmation"], done.text
    # An app was told of her changes by webhook (queued deliveries are enough here).
    hook = {"url": "http://127.0.0.1:9/hook"}
    assert client.post("/v1/webhooks", json=hook).status_code == 201
    assert client.post(f"/v1/customers/{cid}/restrict").status_code == 200
    hub.outbox.integrate_all()
    assert webhooks.dispatch(hub) >= 1
    # Every table about a customer names the part of the export that shows it.
    assert set(_customer_tables()) == set(COVERAGE) | set(ONLY_AFTER_ERASURE)
    export = client.get(f"/v1/customers/{cid}/export")
    assert export.status_code == 200, export.text
    doc = export.json()
    ExportDocument.model_validate(doc)
    with hub.db.read() as conn:
        for table in COVERAGE:
            column = {"customers": "id", "outbox": "subject", "webhook_deliveries": "subject"}.get(
                table, "customer_id"
            )
            held = conn.execute(
                text(f"SELECT count(*) FROM {table} WHERE {column} = :cid"), {"cid": cid}
            ).scalar()
            assert held, f"the test left {table} empty: it proves nothing about it"
            for part in COVERAGE[table]:
                assert doc[part], f"{table} holds rows but the export's {part!r} is empty"
    assert doc["profile"] == {
        "name": "Ann Lee",
        "postcode": "SW1A1AA",
        "identifiers": {
            "email": "ann.lee@example.com",
            "loyalty_card": "6001234",
            "phone": "+447700900123",
        },
    }
    assert doc["history"][0]["actor"] == {"type": "staff", "id": "clerk-Ann Lee"}
    assert {a["action"] for a in doc["access_log"]} >= {"lookup", "profile"}
    assert doc["answers"][0]["value"] == "blue"
    assert doc["answers"][0]["actor"] == {"type": "staff", "id": "clerk-9"}
    assert doc["points"]["balance"] == 10 and doc["asking"]["asking"] is False
    # Both idempotent answers about her (her creation, her consent), opened again.
    bodies = [a["body"] for a in doc["stored_answers"]]
    assert any(b.get("id") == cid for b in bodies)
    assert any(b.get("record", {}).get("customer_id") == cid for b in bodies)
    page = client.get(f"/v1/customers/{cid}/export", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Ann Lee" in page.text and "clerk-Ann Lee" in page.text
    # The export itself is a read of personal data: it shows up in the next export.
    again = client.get(f"/v1/customers/{cid}/export").json()
    assert "export" in {a["action"] for a in again["access_log"]}


def test_the_published_export_schema_is_the_one_the_code_checks() -> None:
    published = json.loads(Path("docs/export.schema.json").read_text())
    assert published == ExportDocument.model_json_schema()


def test_api_keys_are_stored_as_keyed_hashes(hub: Hub, client: TestClient) -> None:
    import hashlib

    created = client.post("/v1/apps", json={"name": "till", "scopes": ["consents:read"]}).json()
    with hub.db.read() as conn:
        stored = set(conn.execute(text("SELECT key_hash FROM apps")).scalars())
    assert hashlib.sha256(created["key"].encode()).hexdigest() not in stored
    assert hub.vault.key_hash(created["key"]) in stored


def test_a_wrong_or_missing_master_key_stops_the_server(settings: Settings) -> None:
    hub = Hub.open(settings)
    with hub.db.write() as conn:
        from consentry.schemas.customers import CustomerCreate
        from consentry.services import customers

        customers.create(hub, conn, CustomerCreate.model_validate(ANN))
    hub.close()
    key_file = settings.resolved_master_key_file
    kept = key_file.with_name("kept.key")
    shutil.move(key_file, kept)
    with pytest.raises(VaultError, match="does not exist"):
        Hub.open(settings)
    assert not key_file.exists()  # no silent fresh key
    MasterKeys.create(key_file)
    with pytest.raises(VaultError, match="not the key this database was written with"):
        Hub.open(settings)
    key_file.write_text("{not json")
    with pytest.raises(VaultError, match="damaged"):
        Hub.open(settings)
    shutil.move(kept, key_file)
    Hub.open(settings).close()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"


def test_rotation_rewraps_data_keys_without_touching_the_data(hub: Hub, client: TestClient) -> None:
    cid = _ann_with_history(client)
    others = [client.post("/v1/customers", json={}).json()["id"] for _ in range(30)]
    before = hub.vault.master.current
    with hub.db.read() as conn:
        sealed_before = _sealed_email(conn)[1]
    done, retired = hub.vault.rotate(batch=7)
    assert done == 1 + len(others) and retired == [before]
    assert list(MasterKeys.load(hub.settings.resolved_master_key_file).keks) == [
        hub.vault.master.current
    ]
    with hub.db.read() as conn:
        assert _sealed_email(conn)[1] == sealed_before  # the data was not re-encrypted
    # A server that still had the old key file reads on, through the rotated keys.
    stale = Vault(MasterKeys.load(hub.settings.resolved_master_key_file), hub.vault.keystore)
    assert stale.unseal(cid, "email", sealed_before) == "ann.lee@example.com"
    assert client.get(f"/v1/customers/{cid}").json()["identifiers"]["loyalty_card"] == "6001234"
    assert set(hub.vault.keystore.kek_ids()) == {hub.vault.master.current}


def test_inspected_schema_has_no_plaintext_columns(hub: Hub) -> None:
    columns = {
        (t, c["name"])
        for t in ("customers", "identifiers")
        for c in inspect(hub.db.engine).get_columns(t)
    }
    assert (
        not {("customers", "name"), ("customers", "postcode"), ("identifiers", "value")} & columns
    )
