"""The hot reads: the one statement behind a real-time check (the caller's app, the customer,
the purpose and the state rows), and the app behind a key, on connections reserved for them.

Why raw DBAPI here and SQLAlchemy Core everywhere else: the check is the hot path (thousands a
second, p99 under 10 ms). One prepared statement on a dedicated autocommit connection costs
tens of microseconds; a pooled SQLAlchemy transaction around the same query costs several
hundred. The statement still reads the committed state every time, so a withdrawal is seen by
the very next check in every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_loads

from consentry.domain.access import RegisteredApp
from consentry.domain.checks import CheckFacts, CheckQuestion
from consentry.domain.consent import ALL_CHANNELS, Action, ConsentEntry
from consentry.store.database import Database
from consentry.store.purposes import purpose_of

_SQL = """
SELECT a.id, a.name, a.scopes, a.purposes, a.revoked_at,
       c.status, c.restricted,
       p.id, p.version, p.title, p.description, p.notice_hash, p.legal_basis, p.channels,
       p.sensitive, p.expires_after_days, p.stale_before_version, p.created_at, p.updated_at, p.gpc,
       p.section, p.confirmation,
       s.action, s.purpose_version, s.record_id, s.since, s.record_pk
FROM (SELECT 1 AS one) AS anchor
LEFT JOIN apps AS a ON a.key_hash = {p}
LEFT JOIN customers AS c ON c.id = {p}
LEFT JOIN purposes AS p ON p.id = {p}
LEFT JOIN consent_state AS s
       ON s.customer_id = c.id AND s.purpose = p.id AND s.channel IN ({p}, {p})
"""

# Many checks in one statement (PostgreSQL): the questions as arrays, each row tagged with its
# question's number. The columns are the single check's, so one parser reads both.
_MANY_SQL = """
SELECT a.id, a.name, a.scopes, a.purposes, a.revoked_at,
       c.status, c.restricted,
       p.id, p.version, p.title, p.description, p.notice_hash, p.legal_basis, p.channels,
       p.sensitive, p.expires_after_days, p.stale_before_version, p.created_at, p.updated_at, p.gpc,
       p.section, p.confirmation,
       s.action, s.purpose_version, s.record_id, s.since, s.record_pk,
       q.n
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])
     WITH ORDINALITY AS q(key_hash, customer, purpose, channel, n)
LEFT JOIN apps AS a ON a.key_hash = q.key_hash
LEFT JOIN customers AS c ON c.id = q.customer
LEFT JOIN purposes AS p ON p.id = q.purpose
LEFT JOIN consent_state AS s
       ON s.customer_id = c.id AND s.purpose = p.id AND s.channel IN (q.channel, '*')
"""


_APP_SQL = "SELECT id, name, scopes, purposes, revoked_at FROM apps WHERE key_hash = {p}"


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


class CheckReader:
    """One reserved connection per thread, one statement per check."""

    def __init__(self, db: Database, cache_mb: int = 0) -> None:
        self.db = db
        self.cache_mb = cache_mb
        self._sql = _SQL.format(p="?" if db.is_sqlite else "%s")
        self._app_sql = _APP_SQL.format(p="?" if db.is_sqlite else "%s")
        self._local = threading.local()
        self._connections: list[Any] = []
        self._lock = threading.Lock()
        # PostgreSQL: one connection per event loop for the checks made on it (api/check_batch).
        self._async: dict[asyncio.AbstractEventLoop, psycopg.AsyncConnection[Any]] = {}

    def _cursor(self) -> Any:
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            raw = self.db.engine.raw_connection()
            driver = raw.driver_connection
            if self.db.is_postgres:
                driver.autocommit = True  # type: ignore[union-attr]
            cursor = driver.cursor()  # type: ignore[union-attr]
            if self.db.is_sqlite and self.cache_mb:
                # Pages in this process's own memory: the operating system may reclaim its file
                # cache (and with it memory-mapped pages) at any time, this cache it cannot.
                cursor.execute("PRAGMA mmap_size=0")
                cursor.execute(f"PRAGMA cache_size=-{self.cache_mb * 1024}")
            self._local.cursor, self._local.raw = cursor, raw
            with self._lock:
                self._connections.append(raw)
        return cursor

    def execute(self, sql: str, params: Any) -> Any:
        """``sql`` on this thread's reserved connection; its cursor, to fetch from."""
        cursor = self._cursor()
        try:
            cursor.execute(sql, params)
        except self.db.engine.dialect.dbapi.OperationalError:  # type: ignore[union-attr]
            self._drop_lost_connection()
            raise
        return cursor

    def _drop_lost_connection(self) -> None:
        """After an operational error on PostgreSQL (the server restarted, the connection
        broke), this thread's next check opens a new connection instead of failing for ever."""
        if self.db.is_postgres:
            raw = self._local.raw
            self._local.cursor = self._local.raw = None
            with self._lock:
                self._connections.remove(raw)
            raw.invalidate()
            # The pool's idle connections most likely went the same way (a restart drops them
            # all), and it hands them out unchecked: start a new pool, as SQLAlchemy does when
            # its own statements meet a disconnect. Connections in use are left alone.
            self.db.engine.dispose(close=False)

    def read(
        self, key_hash: str, customer_id: str, purpose_id: str, channel: str | None
    ) -> CheckFacts:
        cursor = self.execute(
            self._sql, (key_hash, customer_id, purpose_id, channel or ALL_CHANNELS, ALL_CHANNELS)
        )
        return _check_read(cursor.fetchall())

    async def read_many_async(self, questions: list[CheckQuestion]) -> list[CheckFacts]:
        """PostgreSQL: several checks' reads in one statement (the round trip and the server's
        work per statement paid once), in order, on the running event loop's own connection,
        which the loop does not wait on: it goes on reading requests while the database answers.

        A connection the database dropped (a restart, a failover) is replaced and the read
        made again, once: a read changes nothing, so making it twice is safe."""
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            connection = self._async.get(loop)
            if connection is None or connection.closed:
                args, kwargs = self.db.engine.dialect.create_connect_args(self.db.engine.url)
                kwargs.update(self.db.timeouts.connect_args())
                connection = await psycopg.AsyncConnection.connect(*args, **kwargs, autocommit=True)
                set_json_loads(orjson.loads, connection)  # as the engine's connections do
                self._async[loop] = connection
            try:
                # A deadline of our own: a server that stopped answering (frozen, or gone
                # without a word) would keep the checks waiting for ever.
                async with asyncio.timeout(self.db.timeouts.statement_ms / 1000 or None):
                    cursor = await connection.execute(_MANY_SQL, _arrays(questions))
                    return _by_question(questions, await cursor.fetchall())
            except TimeoutError:
                self._async.pop(loop, None)
                await _abandon(connection)
                raise psycopg.OperationalError("the database did not answer in time") from None
            except psycopg.OperationalError:
                self._async.pop(loop, None)
                await connection.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close_async(self) -> None:
        """Close the running loop's connection (the server's shutdown, on its loop)."""
        connection = self._async.pop(asyncio.get_running_loop(), None)
        if connection is not None:
            await connection.close()

    def warm(self) -> None:
        """Read the tables a check touches once, on the calling thread's check connection (the
        event loop's), so the first checks after a start do not each wait for the disk."""
        if self.db.is_sqlite and self.cache_mb:
            cursor = self._cursor()
            cursor.execute("SELECT sum(length(status)) FROM customers")
            cursor.fetchall()
            cursor.execute("SELECT sum(record_pk) FROM consent_state")
            cursor.fetchall()

    def app(self, key_hash: str) -> RegisteredApp | None:
        """The app holding this key (every authenticated request starts here)."""
        row = self.execute(self._app_sql, (key_hash,)).fetchone()
        if row is None:
            return None
        return RegisteredApp(row[0], row[1], tuple(_json(row[2])), tuple(_json(row[3])), 0, row[4])

    def close(self) -> None:
        for connection in self._async.values():  # loops that ended without close_async
            connection.pgconn.finish()
        self._async.clear()
        with self._lock:
            for raw in self._connections:
                raw.invalidate()
            self._connections.clear()
        self._local = threading.local()


def _arrays(questions: list[CheckQuestion]) -> tuple[list[str], ...]:
    return (
        [q[0] for q in questions],
        [q[1] for q in questions],
        [q[2] for q in questions],
        [q[3] or ALL_CHANNELS for q in questions],
    )


def _by_question(questions: list[CheckQuestion], rows: list[Any]) -> list[CheckFacts]:
    answers: list[list[Any]] = [[] for _ in questions]
    for row in rows:
        answers[row[27] - 1].append(row)  # WITH ORDINALITY counts from 1
    return [_check_read(rows) for rows in answers]


def _check_read(rows: list[Any]) -> CheckFacts:
    """A check's rows read (at least one: the LEFT JOINs see to that; one a state row)."""
    first = rows[0]
    app = (
        RegisteredApp(
            first[0], first[1], tuple(_json(first[2])), tuple(_json(first[3])), 0, first[4]
        )
        if first[0] is not None
        else None
    )
    customer = (first[5], bool(first[6])) if first[5] is not None else None
    purpose = purpose_of(first, 7) if first[7] is not None else None
    entries = [
        ConsentEntry(Action(r[22]), r[23], r[24], r[25], r[26]) for r in rows if r[22] is not None
    ]
    return CheckFacts(app, customer, purpose, entries)


async def _abandon(connection: psycopg.AsyncConnection[Any]) -> None:
    """Close a connection whose server does not answer, without waiting for it to."""
    with contextlib.suppress(Exception):
        connection.pgconn.finish()
