"""Copies of a database, made while it serves: SQLite through its online backup API (a
consistent snapshot, page by page, writers not held up for long), PostgreSQL through pg_dump
and pg_restore (custom format: one consistent snapshot in a repeatable-read transaction)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from consentry.store.files import private_sqlite


class BackupError(Exception):
    """A copy could not be made or put back; the message says why."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError(f"{url} is not a database file")
    return Path(database)


def _libpq(url: str) -> str:
    """The URL as pg_dump reads it (no SQLAlchemy driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def copy_out(url: str, target: Path) -> None:
    """A consistent copy of the database at ``url`` into the file ``target``."""
    if is_sqlite(url):
        source = sqlite3.connect(_sqlite_path(url), timeout=60)
        try:
            private_sqlite(str(target))
            copy = sqlite3.connect(target)
            try:
                source.backup(copy, pages=4096)
            finally:
                copy.close()
        finally:
            source.close()
        return
    _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", _libpq(url)])
    os.chmod(target, 0o600)


def copy_in(source: Path, url: str) -> None:
    """Put the copy ``source`` back as the database at ``url`` (the servers stopped)."""
    if is_sqlite(url):
        path = _sqlite_path(url)
        for companion in (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            companion.unlink(missing_ok=True)
        fresh = path.with_name(path.name + ".restoring")
        shutil.copyfile(source, fresh)
        os.chmod(fresh, 0o600)
        os.replace(fresh, path)
        return
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={_libpq(url)}",
            str(source),
        ]
    )


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(f"{command[0]} is not installed (PostgreSQL's client programs)")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()[:500]}")
