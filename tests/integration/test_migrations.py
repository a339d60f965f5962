"""Migrations upgrade databases that hold data, not only empty ones."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from consentry.store.database import Database
from consentry.store.migrate import alembic_config, migrate


def test_upgrading_a_database_with_purposes_and_notices(database_url: str) -> None:
    db = Database(database_url)
    if db.is_postgres:  # the suite's scratch database: start it from nothing
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    config = alembic_config(db)
    with db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.commit()
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
