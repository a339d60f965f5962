"""The write order the importer's bulk insert hands back is the records' real pk, on both
engines; on SQLite also when the rowids are no longer consecutive."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store import consents, evidence


def _rows(n: int, tag: str) -> list[tuple[object, ...]]:
    return [
        (f"rec_{tag}{i:04d}", "cus_a", "newsletter", 1, None, "grant", i, b"{}", bytes([i]) * 32)
        for i in range(n)
    ]


def _stored(hub: Hub) -> dict[str, int]:
    with hub.db.read() as conn:
        return dict(conn.execute(text("SELECT id, pk FROM evidence_records")).all())


def test_the_order_handed_back_is_each_records_pk(hub: Hub) -> None:
    for tag in ("a", "b"):
        with hub.db.write() as conn:
            order = consents.insert_records(conn, _rows(50, tag))
        assert order == {k: v for k, v in _stored(hub).items() if k.startswith(f"rec_{tag}")}
    with hub.db.read() as conn:
        pending = evidence.pending(conn, 1000)
    assert sorted(pk for pk, _ in pending) == sorted(_stored(hub).values())


def test_sqlite_rowids_that_ran_out_are_looked_up(tmp_path: Path) -> None:
    """SQLite only (PostgreSQL's pks come from the insert's RETURNING)."""
    hub = Hub.open(Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.db'}"))
    try:
        with hub.db.write() as conn:
            # The largest rowid taken: SQLite then picks new ones at random.
            conn.execute(
                text(
                    "INSERT INTO evidence_records (pk, id, customer_id, purpose, "
                    "purpose_version, channel, action, captured_at, leaf, leaf_hash) VALUES "
                    "(9223372036854775807, 'rec_last', 'cus_a', 'newsletter', 1, NULL, 'grant', "
                    "0, x'7b7d', zeroblob(32))"
                )
            )
        with hub.db.write() as conn:
            order = consents.insert_records(conn, _rows(50, "r"))
        stored = _stored(hub)
    finally:
        hub.close()
    assert order == {k: v for k, v in stored.items() if k.startswith("rec_r")}
    assert sorted(order.values()) != list(range(min(order.values()), min(order.values()) + 50))
