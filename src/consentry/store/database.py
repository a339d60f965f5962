"""Engines for SQLite and PostgreSQL, and the transaction boundaries the services use."""

from __future__ import annotations

import fcntl
import os
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Generic, TypeVar

import orjson
import psycopg
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from consentry.store.files import private_lock_file, private_sqlite

T = TypeVar("T")
A = TypeVar("A")

# A transaction that PostgreSQL rolled back for a deadlock or a serialization failure is run
# again this many times in all before the caller is told (409, retry).
CONFLICT_ATTEMPTS = 4


def transient_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure (SQLSTATE class 40): nothing was written, and the
    same transaction run again will most likely succeed."""
    orig = getattr(exc, "orig", exc)
    return isinstance(orig, psycopg.Error) and (orig.sqlstate or "").startswith("40")


# How many parts of one large read run at once (Database.read_parts): one per core, so that
# on PostgreSQL each part's backend has a core; at most 8.
READ_PARTS = max(2, min(8, os.cpu_count() or 2))


@dataclass(frozen=True)
class Timeouts:
    """How long PostgreSQL may keep a request waiting before it is told "unavailable" (503):
    connecting (``connect``, s), a free pooled connection (``pool``, s), a lock
    (``lock_ms``), a statement (``statement_ms``; 0: none). A peer that vanished without a
    word is noticed by TCP keepalives and ``tcp_user_timeout_ms`` (data unacknowledged)."""

    connect: float = 2.0
    pool: float = 2.0
    lock_ms: int = 5_000
    statement_ms: int = 60_000
    tcp_user_timeout_ms: int = 5_000

    def connect_args(self) -> dict[str, Any]:
        """libpq connection parameters."""
        options = f"-c lock_timeout={self.lock_ms} -c statement_timeout={self.statement_ms}"
        return {
            "connect_timeout": max(1, round(self.connect)),
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": self.tcp_user_timeout_ms,
            "options": options,
        }


class Database:
    """One database, either engine. ``write()`` is a transaction that may change data,
    ``read()`` one that only reads; both commit or roll back as a whole."""

    def __init__(self, url: str, *, pool_size: int = 20, timeouts: Timeouts | None = None) -> None:
        self.timeouts = timeouts or Timeouts()
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        if not (self.is_sqlite or self.is_postgres):
            raise ValueError(f"unsupported database {self.url.get_backend_name()!r}")
        # SQLite allows one writer at a time. Writers queue on a lock in this process and on an
        # flock() across processes: the kernel wakes the next writer the moment the last one
        # finishes, where SQLite's busy handler would poll with sleeps of up to 100 ms.
        self._write_lock = threading.Lock() if self.is_sqlite else None
        self._lock_file: IO[str] | None = None
        self.engine = self._make_engine(pool_size)
        self._group = GroupCommit(self) if self.is_sqlite else None
        self._writers = ThreadPoolExecutor(pool_size, thread_name_prefix="writer")
        self._readers = ThreadPoolExecutor(READ_PARTS, thread_name_prefix="reader")
        # A broken unique or foreign key, from SQLAlchemy or from a raw DBAPI cursor.
        self.integrity_errors: tuple[type[Exception], ...] = (
            IntegrityError,
            self.engine.dialect.dbapi.IntegrityError,  # type: ignore[union-attr]
        )

    def _make_engine(self, pool_size: int) -> Engine:
        if self.is_sqlite:
            database = self.url.database
            if database and database != ":memory:":
                private_sqlite(database)
            engine = create_engine(
                self.url,
                json_deserializer=orjson.loads,
                connect_args={"check_same_thread": False, "timeout": 30},
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_use_lifo=True,
            )
            event.listen(engine, "connect", _sqlite_on_connect)
            event.listen(engine, "begin", _sqlite_on_begin)
            return engine
        return create_engine(
            self.url,
            json_deserializer=orjson.loads,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            pool_timeout=self.timeouts.pool,
            connect_args=self.timeouts.connect_args(),
        )

    @contextmanager
    def write(self, connection: Connection | None = None) -> Iterator[Connection]:
        """A write transaction, on ``connection`` if given (the group committer keeps its own,
        with a warm page cache), else on a pooled one."""
        if self._write_lock is None:
            with self.engine.connect() as conn, conn.begin():
                yield conn
            return
        with self._write_lock, self._process_lock():
            if connection is not None:
                with connection.begin():
                    yield connection
                return
            with self.engine.connect() as conn:
                conn = conn.execution_options(consentry_write=True)
                with conn.begin():
                    yield conn

    @contextmanager
    def _process_lock(self) -> Iterator[None]:
        database = self.url.database
        if not database or database == ":memory:":
            yield
            return
        if self._lock_file is None:
            self._lock_file = private_lock_file(Path(database + ".write-lock"))
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextmanager
    def try_exclusive(self, name: str, key: int) -> Iterator[bool]:
        """Whether this process may do a background job that one process is enough for (True
        for exactly one holder at a time, across processes): a PostgreSQL advisory lock, or a
        non-blocking flock beside the SQLite file."""
        if self.is_postgres:
            with self.engine.connect() as conn:
                mine = bool(
                    conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                )
                conn.commit()
                try:
                    yield mine
                finally:
                    if mine:
                        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                        conn.commit()
            return
        database = self.url.database
        if not database or database == ":memory:":
            yield True
            return
        with open(f"{database}.{name}-lock", "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read. SQLite: one transaction, so every statement sees the same snapshot.
        PostgreSQL: no transaction at all (autocommit). Under READ COMMITTED each statement
        sees its own snapshot inside a transaction too, so BEGIN and COMMIT bought nothing
        but two round trips on every read."""
        if self.is_postgres:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                yield conn
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def read_parts(self, work: Callable[[Connection, A], T], parts: Sequence[A]) -> list[T]:
        """``work`` over each part at once, each on its own connection in its own read
        transaction, results in the parts' order. For one large read on PostgreSQL, where the
        statements run in separate backends and so use every core; the caller accepts that
        the parts are read moments apart, as consecutive statements would be."""
        futures = [self._readers.submit(self._reading, work, part) for part in parts]
        return [future.result() for future in futures]

    def _reading(self, work: Callable[[Connection, A], T], part: A) -> T:
        with self.read() as conn:
            return work(conn, part)

    def submit_write(self, work: Callable[[Connection], T]) -> Future[T]:
        """Run ``work`` in a write transaction and commit it; the future holds its result once
        durable (or its error, with nothing written).

        On SQLite, concurrent calls are committed together by one writer thread (group commit):
        each runs in its own savepoint, so a failing one undoes only itself, and one fsync
        makes the whole group durable before any of them answers. PostgreSQL already groups
        concurrent commits into one WAL flush, so there each call has its own transaction on a
        pool of writer threads.
        """
        if self._group is not None:
            return self._group.submit(work)
        return self._writers.submit(self._in_transaction, work)

    def start_writer(self) -> None:
        """Start (and warm) the SQLite group committer now rather than on the first write."""
        if self._group is not None:
            self._group.start()

    def _in_transaction(self, work: Callable[[Connection], T]) -> T:
        return self.transact(work)

    def transact(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in a write transaction; a deadlock or serialization failure (which
        rolled everything back) runs it again, at most ``CONFLICT_ATTEMPTS`` times in all."""
        for attempt in range(1, CONFLICT_ATTEMPTS + 1):
            try:
                with self.write() as conn:
                    return work(conn)
            except DBAPIError as exc:
                if attempt == CONFLICT_ATTEMPTS or not transient_conflict(exc):
                    raise
                time.sleep(random.uniform(0.001, 0.01 * attempt))  # out of step with the other
        raise AssertionError("unreachable")

    def checkpoint(self) -> None:
        """Copy the WAL back into the database file (SQLite), off the writers' path: a PASSIVE
        checkpoint never waits for readers or writers."""
        if self.is_sqlite:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def advisory_lock(self, conn: Connection, key: int, *, wait: bool = True) -> bool:
        """Hold a lock for the rest of ``conn``'s transaction; without ``wait``, only if no
        one else holds it (whether it was taken). On SQLite the write transaction (BEGIN
        IMMEDIATE) already excludes every other writer, so there is nothing to take."""
        if not self.is_postgres:
            return True
        if wait:
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(key)s)", {"key": key})
            return True
        return bool(
            conn.exec_driver_sql("SELECT pg_try_advisory_xact_lock(%(key)s)", {"key": key}).scalar()
        )

    def dispose(self) -> None:
        if self._group is not None:
            self._group.stop()
        self._writers.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def dbapi_cursor(conn: Connection) -> tuple[Any, str]:
    """A DBAPI cursor inside ``conn``'s transaction, and the driver's placeholder.

    For the few statements where SQLAlchemy's own per-statement and per-row work costs more
    than the database does (the consent change, the importer's bulk inserts)."""
    driver = conn.connection.driver_connection
    assert driver is not None
    return driver.cursor(), "?" if conn.dialect.name == "sqlite" else "%s"


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Take transaction control from the driver so BEGIN IMMEDIATE can be issued for writes.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit is on disk (fsync of the WAL) before the API answers.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # Deleted rows are overwritten, not left in free pages (erasure; blind indexes).
    cursor.execute("PRAGMA secure_delete=ON")
    # A private page cache per connection, no memory map: the operating system may reclaim its
    # file cache (and mapped pages with it) at any time, this cache it cannot. The pool is LIFO,
    # so the connections reused are the warm ones.
    cursor.execute("PRAGMA cache_size=-262144")
    # Checkpoints are run by the sequencer's loop (see checkpoint()); a writer only checkpoints
    # itself if the WAL grows past this many pages despite that.
    cursor.execute("PRAGMA wal_autocheckpoint=20000")
    cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    if conn.get_execution_options().get("consentry_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


class _Job(Generic[T]):
    __slots__ = ("error", "future", "result", "work")

    def __init__(self, work: Callable[[Connection], T]) -> None:
        self.work = work
        self.future: Future[T] = Future()
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """One writer thread that commits the queued work of many requests in one transaction."""

    MAX_GROUP = 64

    def __init__(self, db: Database) -> None:
        self.db = db
        self._queue: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._connection: Connection

    def start(self) -> None:
        if self._thread is None:
            with self._start_lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._loop, name="group-commit", daemon=True
                    )
                    self._thread.start()

    def submit(self, work: Callable[[Connection], T]) -> Future[T]:
        self.start()
        job = _Job(work)
        self._queue.put(job)
        return job.future

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        with self.db.engine.connect() as conn:
            self._connection = conn.execution_options(consentry_write=True)
            self._warm()
            self._serve()

    def _warm(self) -> None:
        """Read what a consent change touches once (the customers, their state rows and the
        history index), so the writer's private page cache starts warm."""
        driver = self._connection.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        cursor.execute("SELECT sum(length(status)) FROM customers")
        cursor.execute("SELECT sum(record_pk) FROM consent_state")
        cursor.execute(
            "SELECT count(*) FROM evidence_records INDEXED BY ix_evidence_records_customer_id_pk"
        )
        cursor.fetchall()
        cursor.close()

    def _serve(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs = [first]
            while len(jobs) < self.MAX_GROUP:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    self._queue.put(None)
                    break
                jobs.append(job)
            self._commit(jobs)

    def _commit(self, jobs: list[_Job[Any]]) -> None:
        try:
            with self.db.write(self._connection) as conn:
                for job in jobs:
                    try:
                        with conn.begin_nested():
                            job.result = job.work(conn)
                    except Exception as exc:
                        job.error = exc
        except Exception as exc:  # the commit itself failed: nothing of the group is durable
            for job in jobs:
                if job.error is None:
                    job.error, job.result = exc, None
        for job in jobs:
            if job.error is not None:
                job.future.set_exception(job.error)
            else:
                job.future.set_result(job.result)
