"""Build the benchmark database: N customers (default 1,000,000) times 6 purposes, one evidence
record per customer and purpose (about 80% grants), a valid sequenced log and a signed head.

    python bench/make_db.py sqlite:////tmp/bench/consentry.db /tmp/bench [customers]
    python bench/make_db.py postgresql+psycopg://postgres@127.0.0.1:5432/bench /tmp/bench-pg

Rows are written in bulk (executemany on SQLite, COPY on PostgreSQL) rather than through the
API, which would take hours; the leaves, hashes, sequence numbers and tree are the same ones
the service writes, and `consentry evidence verify` accepts the result.
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from sqlalchemy import text

from consentry.domain.access import ALL_PURPOSES, RegisteredApp, Scope
from consentry.domain.clock import rfc3339, to_micros, utcnow
from consentry.domain.consent import Action, ActorType, Source
from consentry.domain.evidence import EvidenceRecord
from consentry.domain.ids import new_id
from consentry.domain.merkle import CompactRange
from consentry.schemas.purposes import PurposeCreate
from consentry.services import purposes
from consentry.services.apps import hash_key
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.apps import insert as insert_app

PURPOSES = [
    ("newsletter", ["email", "sms", "post"]),
    ("personalisation", ["email", "in_app"]),
    ("profiling", []),
    ("preferences", ["web", "in_app"]),
    ("partner_offers", ["email", "post"]),
    ("order_updates", ["email", "sms"]),
]
CHUNK = 50_000
BENCH_KEY = "bench-admin-key-" + "b" * 32


def main(url: str, data_dir: Path, count: int) -> None:
    hub = Hub.open(Settings(database_url=url, data_dir=data_dir))
    with hub.db.write() as conn:
        for pid, channels in PURPOSES:
            purposes.create(
                hub,
                conn,
                PurposeCreate(
                    id=pid,
                    title=pid.replace("_", " ").title(),
                    description=f"About {pid}.",
                    legal_basis="contract" if pid == "order_updates" else "consent",
                    channels=channels,
                ),
            )
        insert_app(
            conn,
            RegisteredApp(
                new_id("app"),
                "admin",
                (Scope.ADMIN.value,),
                (ALL_PURPOSES,),
                hub.now_micros(),
                None,
            ),
            hash_key(hub, BENCH_KEY),
        )
        notice = {pid: purposes.require(conn, pid).notice_hash for pid, _ in PURPOSES}
    rng = random.Random(1)
    now = utcnow()
    tree = CompactRange()
    ids_file = data_dir / "customer-ids.txt"
    started = time.perf_counter()
    with ids_file.open("w") as ids_out:
        for start in range(0, count, CHUNK):
            customers, identifiers, records, leaves, state = [], [], [], [], []
            chunk_ids = [new_id("cus") for _ in range(start, min(count, start + CHUNK))]
            vault = hub.vault
            vault.new_keys(chunk_ids, to_micros(now))
            keys = vault.keys(chunk_ids)
            for n, cid in zip(range(start, min(count, start + CHUNK)), chunk_ids, strict=True):
                ids_out.write(cid + "\n")
                created = to_micros(now) - rng.randint(10**9, 6 * 10**13)
                customers.append((cid, None, None, None, "active", False, created))
                email = f"customer{n}@example.com"
                sealed = vault.seal_with(keys[cid], cid, "email", email)
                identifiers.append(("email", vault.blind("email", email), cid, sealed))
                for pid, _ in PURPOSES:
                    action = Action.GRANT if rng.random() < 0.8 else Action.WITHDRAW
                    captured = created + rng.randint(0, 10**12)
                    stamp = rfc3339(_from(captured))
                    record = EvidenceRecord(
                        id=new_id("rec"),
                        customer_id=cid,
                        purpose=pid,
                        purpose_version=1,
                        notice_hash=notice[pid],
                        channel=None,
                        action=action,
                        source=Source.WEB,
                        actor_type=ActorType.CUSTOMER,
                        actor_commitment=None,
                        location_commitment=None,
                        proof_commitment=None,
                        captured_at=stamp,
                        recorded_at=stamp,
                    )
                    leaf_hash = record.leaf_hash
                    seq = tree.size
                    tree.append(leaf_hash)
                    leaves.append((seq, seq + 1, leaf_hash))
                    records.append(
                        (
                            seq + 1,
                            record.id,
                            cid,
                            pid,
                            1,
                            None,
                            action.value,
                            captured,
                            record.leaf_bytes,
                            leaf_hash,
                        )
                    )
                    state.append((cid, pid, "*", action.value, 1, record.id, captured, seq + 1))
            _write(hub, customers, identifiers, records, leaves, state)
            done = min(count, start + CHUNK)
            rate = done / (time.perf_counter() - started)
            print(f"{done} customers ({rate:.0f}/s)", flush=True)
    with hub.db.write() as conn:
        if hub.db.is_postgres:
            conn.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('evidence_records', 'pk'), "
                    "(SELECT max(pk) FROM evidence_records))"
                )
            )
        head = hub.sequencer.commit_head(conn, tree, existed=True)
    if hub.db.is_postgres:
        with hub.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    print(f"head: size {head.size}, root {head.root_hash}")
    print(f"bench key: {BENCH_KEY}")
    hub.close()


def _from(micros: int):  # type: ignore[no-untyped-def]
    from consentry.domain.clock import from_micros

    return from_micros(micros)


def _write(
    hub: Hub, customers: list, identifiers: list, records: list, leaves: list, state: list
) -> None:  # type: ignore[type-arg]
    raw = hub.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if hub.db.is_sqlite:
            cur.execute("BEGIN IMMEDIATE")
            cur.executemany(
                "INSERT INTO customers (id, name_sealed, postcode_sealed, pair_blind, status, "
                "restricted, created_at) VALUES (?,?,?,?,?,?,?)",
                customers,
            )
            cur.executemany(
                "INSERT INTO identifiers (kind, blind, customer_id, value_sealed) VALUES (?,?,?,?)",
                identifiers,
            )
            cur.executemany(
                "INSERT INTO evidence_records (pk, id, customer_id, purpose, "
                "purpose_version, channel, action, captured_at, leaf, leaf_hash) "
                "VALUES (?,?,?,?,?,?,?,?,?,?)",
                records,
            )
            cur.executemany(
                "INSERT INTO log_leaves (seq, record_pk, leaf_hash) VALUES (?,?,?)", leaves
            )
            cur.executemany(
                "INSERT INTO consent_state (customer_id, purpose, channel, action, "
                "purpose_version, record_id, since, record_pk) "
                "VALUES (?,?,?,?,?,?,?,?)",
                state,
            )
            cur.execute("COMMIT")
        else:
            for table, columns, rows in (
                (
                    "customers",
                    "id, name_sealed, postcode_sealed, pair_blind, status, restricted, created_at",
                    customers,
                ),
                ("identifiers", "kind, blind, customer_id, value_sealed", identifiers),
                (
                    "evidence_records",
                    "pk, id, customer_id, purpose, purpose_version, "
                    "channel, action, captured_at, leaf, leaf_hash",
                    records,
                ),
                ("log_leaves", "seq, record_pk, leaf_hash", leaves),
                (
                    "consent_state",
                    "customer_id, purpose, channel, action, purpose_version, "
                    "record_id, since, record_pk",
                    state,
                ),
            ):
                with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
    finally:
        raw.close()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000)
