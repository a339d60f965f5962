"""Migrations upgrade databases that hold data, not only empty ones."""

from __future__ import annotations

import datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from consentry.store import consents, evidence, insights
from consentry.store.database import Database
from consentry.store.migrate import alembic_config, migrate
from consentry.store.tables import metadata


def _from_nothing(db: Database) -> None:
    if db.is_postgres:  # the suite's scratch database (SQLite's is a new file per test)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))


def _migrate_to(db: Database, revision: str, *, down: bool = False) -> None:
    config = alembic_config(db)
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)
        conn.commit()


def test_upgrading_a_database_with_purposes_and_notices(database_url: str) -> None:
    db = Database(database_url)
    _from_nothing(db)
    _migrate_to(db, "0002")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO purposes (id, version, title, description, notice_hash, legal_basis,"
                " channels, sensitive, stale_before_version, created_at, updated_at) VALUES "
                "('newsletter', 1, 'News', 'Offers', 'h', 'consent', '[]', false, 1, 1, 1)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO notices (purpose_id, version, title, description, notice_hash,"
                " reconsent, published_at) VALUES ('newsletter', 1, 'News', 'Offers', 'h',"
                " false, 1)"
            )
        )
    migrate(db)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT gpc FROM purposes")).scalar() in (False, 0)
        assert conn.execute(text("SELECT count(*) FROM notices")).scalar() == 1
    db.dispose()


def test_the_migrated_schema_is_the_one_the_code_declares(database_url: str) -> None:
    db = Database(database_url)
    _from_nothing(db)
    migrate(db)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []
    # Alembic's comparison leaves primary keys out; their column order decides what they serve.
    inspector = inspect(db.engine)
    for table in metadata.sorted_tables:
        declared = [column.name for column in table.primary_key.columns]
        assert inspector.get_pk_constraint(table.name)["constrained_columns"] == declared, table
    db.dispose()


def test_flow_members_keep_their_rows_when_rekeyed(database_url: str) -> None:
    db = Database(database_url)
    _from_nothing(db)
    _migrate_to(db, "0016")
    cell = {"day": datetime.date(2026, 12, 1), "purpose": "newsletter", "channel": "email"}
    rows = [
        {**cell, "period": period, "source": "web", "action": "grant", "member": member}
        for period in ("day", "month")
        for member in ("m1", "m2")
    ]
    with db.engine.begin() as conn:
        conn.execute(insights.members.insert(), rows)
    migrate(db)
    with db.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM insight_flow_members")).scalar() == 4
        # Counted already: the key still refuses a member twice in a cell.
        assert insights.add_members(conn, [rows[0], {**rows[0], "member": "m3"}]) == [
            {key: rows[0][key] for key in insights.CELL}
        ]
        insights.forget_member(conn, "m1")
        left = conn.execute(text("SELECT member FROM insight_flow_members ORDER BY 1"))
        assert [r.member for r in left] == ["m2", "m2", "m3"]
    db.dispose()


def test_sequenced_and_pending_records_keep_their_place_when_seq_moves_out(
    database_url: str,
) -> None:
    """0018: a record's ``seq`` moves to log_leaves, a pending record to pending_leaves; the
    sequencer goes on from there, and the records read with their place in the log."""
    db = Database(database_url)
    _from_nothing(db)
    _migrate_to(db, "0017")
    with db.engine.begin() as conn:
        for pk, seq in ((1, 0), (2, 1), (3, None), (4, None)):
            conn.execute(
                text(
                    "INSERT INTO evidence_records (pk, id, seq, customer_id, purpose, "
                    "purpose_version, channel, action, captured_at, leaf, leaf_hash) VALUES "
                    "(:pk, :id, :seq, 'cus_a', 'newsletter', 1, NULL, 'grant', 1, :leaf, :hash)"
                ),
                {"pk": pk, "id": f"rec_{pk}", "seq": seq, "leaf": b"{}", "hash": bytes([pk]) * 32},
            )
    migrate(db)
    with db.engine.begin() as conn:
        assert [tuple(r) for r in conn.execute(text("SELECT * FROM log_leaves ORDER BY seq"))] == [
            (0, 1, b"\x01" * 32),
            (1, 2, b"\x02" * 32),
        ]
        pending = evidence.pending(conn, 10)
        assert pending == [(3, b"\x03" * 32), (4, b"\x04" * 32)]
        evidence.integrate_leaves(conn, [(2, 3, pending[0][1])])
        assert evidence.pending(conn, 10) == [(4, b"\x04" * 32)]
        assert evidence.seq_of(conn, "rec_3") == (2, b"\x03" * 32)
        assert evidence.seq_of(conn, "rec_4") == (None, b"\x04" * 32)
        assert [r.seq for r in consents.history_rows(conn, "cus_a", None, 10)] == [0, 1, 2, None]
        assert "seq" not in {c["name"] for c in inspect(conn).get_columns("evidence_records")}
    # Back to 0017 and up again: every sequenced record keeps its number, the pending one
    # stays pending, through both directions.
    _migrate_to(db, "0017", down=True)
    with db.engine.begin() as conn:
        rows = conn.execute(text("SELECT pk, seq FROM evidence_records ORDER BY pk"))
        assert [tuple(r) for r in rows] == [(1, 0), (2, 1), (3, 2), (4, None)]
        assert not {"log_leaves", "pending_leaves"} & set(inspect(conn).get_table_names())
    migrate(db)
    with db.engine.begin() as conn:
        assert evidence.pending(conn, 10) == [(4, b"\x04" * 32)]
        assert [r.seq for r in consents.history_rows(conn, "cus_a", None, 10)] == [0, 1, 2, None]
    db.dispose()
