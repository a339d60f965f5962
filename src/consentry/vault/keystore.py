"""The key store: customers' data keys, wrapped, in a database of their own.

Kept apart from the main database so that a backup of the data never holds the keys that open
it: erasing a key here makes every earlier copy of that customer's data unreadable. The table is
one table that never changes shape, created with ``create_all`` rather than an Alembic history.

On SQLite the store uses a rollback journal (deleted at each commit) and ``secure_delete``, so a
deleted key is overwritten in the file and no old copy of its page lingers in a WAL.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import make_url

from consentry.store.files import private_sqlite
from consentry.vault.erased import ErasedSignal, FileSignal, PostgresSignal

metadata = MetaData()

data_keys = Table(
    "data_keys",
    metadata,
    Column("customer_id", String(40), primary_key=True),
    Column("kek_id", String(40), nullable=False, index=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_at", BigInteger, nullable=False, index=True),
)

CHUNK = 30_000
_GET = "SELECT kek_id, wrapped FROM data_keys WHERE customer_id = ?"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=DELETE")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class KeyStore:
    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            if parsed.database and parsed.database != ":memory:":
                private_sqlite(parsed.database)
            self.engine = create_engine(
                parsed, connect_args={"check_same_thread": False, "timeout": 60}
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(parsed, pool_size=10, max_overflow=10)
        metadata.create_all(self.engine, checkfirst=True)
        for index in data_keys.indexes:  # indexes added after a key store was first made
            index.create(self.engine, checkfirst=True)
        database = parsed.database if self.is_sqlite else None
        self._file = Path(database).resolve() if database and database != ":memory:" else None
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _reader(self) -> sqlite3.Connection | None:
        """SQLite: this thread's own read-only connection, for the one-key reads a request
        makes (a profile, an answer). A pooled SQLAlchemy connection around the same SELECT
        cost ten times as much (about 250 µs against 25)."""
        if self._file is None:
            return None
        reader: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = sqlite3.connect(
                f"{self._file.as_uri()}?mode=ro", uri=True, timeout=60, check_same_thread=False
            )
            self._local.reader = reader
            with self._lock:
                self._readers.append(reader)
        return reader

    def erased_signal(self) -> ErasedSignal:
        """How this key store's processes tell each other of destroyed keys (vault/erased)."""
        url = self.engine.url
        if self.is_sqlite:
            database = url.database or ""
            if database in ("", ":memory:"):  # one process only: nobody else to tell
                return FileSignal(Path(os.devnull))
            return FileSignal(Path(database + ".erased"))
        listen_url = url.set(drivername="postgresql")  # libpq's own URL, without the driver
        return PostgresSignal(listen_url.render_as_string(hide_password=False), self.engine)

    def dispose(self) -> None:
        with self._lock:
            for connection in self._readers:
                connection.close()
            self._readers.clear()
        self._local = threading.local()
        self.engine.dispose()

    def get(self, customer_id: str) -> tuple[str, bytes] | None:
        reader = self._reader()
        if reader is not None:
            try:
                row = reader.execute(_GET, (customer_id,)).fetchone()
                return (row[0], bytes(row[1])) if row else None
            except sqlite3.OperationalError:
                pass  # e.g. a journal left by a crash, which only a writable connection undoes
        with self.engine.connect() as conn:
            row = conn.execute(
                select(data_keys.c.kek_id, data_keys.c.wrapped).where(
                    data_keys.c.customer_id == customer_id
                )
            ).first()
        return (row.kek_id, bytes(row.wrapped)) if row else None

    def get_many(self, customer_ids: Sequence[str]) -> dict[str, tuple[str, bytes]]:
        found: dict[str, tuple[str, bytes]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(customer_ids), CHUNK):
                rows = conn.execute(
                    select(data_keys).where(
                        data_keys.c.customer_id.in_(customer_ids[start : start + CHUNK])
                    )
                )
                found.update({r.customer_id: (r.kek_id, bytes(r.wrapped)) for r in rows})
        return found

    def put_many(self, rows: Iterable[tuple[str, str, bytes, int]]) -> None:
        """(customer_id, kek_id, wrapped, created_at) rows, committed before this returns."""
        rows = list(rows)
        if not rows:
            return
        with self.engine.begin() as conn:
            if self.is_sqlite:
                # The driver's executemany: SQLAlchemy's per-row work for a list of dicts was
                # most of the cost of making an import's 5,000 keys a chunk.
                conn.exec_driver_sql(
                    "INSERT INTO data_keys (customer_id, kek_id, wrapped, created_at) "
                    "VALUES (?, ?, ?, ?)",
                    rows,
                )
            else:
                conn.execute(
                    data_keys.insert(),
                    [
                        {"customer_id": c, "kek_id": k, "wrapped": w, "created_at": t}
                        for c, k, w, t in rows
                    ],
                )

    def delete(self, customer_ids: Sequence[str]) -> int:
        with self.engine.begin() as conn:
            return conn.execute(
                delete(data_keys).where(data_keys.c.customer_id.in_(customer_ids))
            ).rowcount

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(data_keys)).scalar_one())

    def kek_ids(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(data_keys.c.kek_id, func.count()).group_by(data_keys.c.kek_id)
            )
            return {r[0]: int(r[1]) for r in rows}

    def not_under(self, kek_id: str, batch: int) -> Iterator[list[tuple[str, str, bytes]]]:
        """Batches of keys wrapped by another KEK than ``kek_id``, in customer order."""
        after = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(data_keys.c.customer_id, data_keys.c.kek_id, data_keys.c.wrapped)
                    .where(data_keys.c.kek_id != kek_id, data_keys.c.customer_id > after)
                    .order_by(data_keys.c.customer_id)
                    .limit(batch)
                ).all()
            if not rows:
                return
            yield [(r[0], r[1], bytes(r[2])) for r in rows]
            after = rows[-1][0]

    def rewrap(self, conn: Connection, rows: list[tuple[str, str, str, bytes]]) -> None:
        """(customer_id, old kek_id, new kek_id, wrapped): only if still under the old KEK."""
        conn.execute(
            update(data_keys)
            .where(
                data_keys.c.customer_id == bindparam("cid"), data_keys.c.kek_id == bindparam("old")
            )
            .values(kek_id=bindparam("new"), wrapped=bindparam("wrapped")),
            [{"cid": c, "old": o, "new": n, "wrapped": w} for c, o, n, w in rows],
        )

    def made_between(self, since: int, before: int) -> Iterator[list[str]]:
        """Batches of the customers whose keys were made in [since, before)."""
        after = ""
        while True:
            with self.engine.connect() as conn:
                ids = list(
                    conn.execute(
                        select(data_keys.c.customer_id)
                        .where(
                            data_keys.c.customer_id > after,
                            data_keys.c.created_at >= since,
                            data_keys.c.created_at < before,
                        )
                        .order_by(data_keys.c.customer_id)
                        .limit(CHUNK)
                    ).scalars()
                )
            if not ids:
                return
            yield ids
            after = ids[-1]
