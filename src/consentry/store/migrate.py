"""Bring the schema up to date on start. Several processes may start at once: on PostgreSQL an
advisory lock, on SQLite an exclusive file lock, lets exactly one of them migrate."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from consentry.store.database import Database
from consentry.store.files import private_lock_file

MIGRATION_LOCK = 0x636F6E73  # "cons"
_HERE = Path(__file__).parent


def alembic_config(db: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_HERE / "migrations"))
    config.set_main_option("sqlalchemy.url", db.url.render_as_string(hide_password=False))
    return config


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with private_lock_file(path) as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrate(db: Database) -> None:
    config = alembic_config(db)
    if db.is_postgres:
        with db.engine.connect() as conn:
            # A migration may rewrite a large table, and waits for another process's.
            conn.execute(text("SET statement_timeout = 0"))
            conn.execute(text("SET lock_timeout = 0"))
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK})
            conn.commit()
            try:
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK})
                conn.commit()
        return
    database = db.url.database or ":memory:"
    lock_path = Path(database + ".migrate-lock") if database != ":memory:" else None
    if lock_path is None:
        raise ValueError("an in-memory SQLite database cannot be shared; use a file")
    with _file_lock(lock_path), db.engine.connect() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
