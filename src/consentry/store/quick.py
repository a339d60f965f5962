"""The apps' everyday reads of one customer, each one statement on a connection kept for it.

Why raw DBAPI, as for the check (store/checks.py): a read through a pooled SQLAlchemy
connection made two to four round trips (the customer, again for ``require_active``, the
purposes, the states) and cost more server CPU than the answer. Here the customer and what is
asked about them come in one statement, with the purpose catalogue's fingerprint, so that the
purposes themselves come from the process's cache (services/reads.py) and are read again only
after a change by any process.

SQLite reads on the calling thread's reserved connection (the check's own, in process: no
round trip to wait for). PostgreSQL reads on the running event loop's pool of asynchronous
connections (psycopg_pool): the loop goes on serving other requests while the database answers.
Every statement reads committed state; nothing here writes, so no statement needs a
transaction, and none is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import orjson
import psycopg
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool

from consentry.domain.consent import Action, ConsentEntry
from consentry.domain.purposes import Purpose
from consentry.store.checks import CheckReader
from consentry.store.customers import COLUMNS as CUSTOMER_COLUMNS
from consentry.store.customers import CustomerRow, row_of
from consentry.store.database import Database
from consentry.store.purposes import COLUMNS as PURPOSE_COLUMNS
from consentry.store.purposes import FINGERPRINT, purpose_of

_CUSTOMER = ", ".join(f"c.{name}" for name in CUSTOMER_COLUMNS.split(", "))


# A consent state's columns, as CustomerStates reads them after the customer's and the fingerprint.
_STATE = "s.purpose, s.channel, s.action, s.purpose_version, s.record_id, s.since, s.record_pk"


def _states(source: str, where: str) -> str:
    return (
        f"SELECT {_CUSTOMER}, {FINGERPRINT}, {_STATE} "
        f"FROM {source} LEFT JOIN consent_state AS s ON s.customer_id = c.id WHERE {where}"
    )


_BY_ID = "customers AS c", "c.id = {p}"
_BY_IDENTIFIER = (
    "identifiers AS i JOIN customers AS c ON c.id = i.customer_id",
    "i.kind = {p} AND i.blind = {p}",
)
# The card-less pair names at most one active customer; two found are reported as ambiguous.
_PAIR_IDS = (
    "SELECT id FROM customers WHERE pair_blind = {p} AND status = 'active' ORDER BY id LIMIT 2"
)
_BY_PAIR = "customers AS c", f"c.id IN ({_PAIR_IDS})"

_ID_BY_IDENTIFIER = (
    "SELECT i.customer_id FROM identifiers AS i WHERE i.kind = {p} AND i.blind = {p}"
)

_PROFILE = (
    f"SELECT {_CUSTOMER}, i.kind, i.value_sealed FROM customers AS c "
    "LEFT JOIN identifiers AS i ON i.customer_id = c.id WHERE c.id = {p} ORDER BY i.kind"
)

_PURPOSES = f"SELECT {PURPOSE_COLUMNS}, {FINGERPRINT} FROM purposes ORDER BY id"

# The preference centre's page: the session behind the cookie, its customer and their consent
# states (no customer columns for a session that has none).
_CENTRE = (
    "SELECT w.customer_id, w.staff_id, w.csrf, w.expires_at, "
    f"{_CUSTOMER}, {FINGERPRINT}, {_STATE} FROM web_sessions AS w "
    "LEFT JOIN customers AS c ON c.id = w.customer_id "
    "LEFT JOIN consent_state AS s ON s.customer_id = c.id WHERE w.token_hash = {p}"
)

# The pages: the customer's row (is there one? erased?) with up to ``limit`` rows after the
# cursor. The LEFT JOIN keeps the customer's row when the page is empty.
_HISTORY = (
    f"SELECT {_CUSTOMER}, r.pk, l.seq, r.leaf, r.leaf_hash, o.sealed FROM customers AS c "
    "LEFT JOIN evidence_records AS r ON r.customer_id = c.id AND r.pk > {p} "
    "LEFT JOIN log_leaves AS l ON l.record_pk = r.pk "
    "LEFT JOIN evidence_openings AS o ON o.record_id = r.id "
    "WHERE c.id = {p} ORDER BY r.pk LIMIT {p}"
)
_ANSWERS = (
    f"SELECT {_CUSTOMER}, a.question_id, a.status, a.sealed, a.channel, a.actor_type, "
    "a.answered_at, a.expires_at FROM customers AS c "
    "LEFT JOIN answers AS a ON a.customer_id = c.id "
    "WHERE c.id = {p} ORDER BY a.answered_at DESC, a.question_id"
)
# Newest first; a later page starts after the entry its cursor names (its time, then its id).


def _points(after: str) -> str:
    return (
        f"SELECT {_CUSTOMER}, (SELECT balance FROM points_accounts WHERE customer_id = c.id), "
        "e.id, e.points, e.question_id, e.reason, e.at FROM customers AS c "
        f"LEFT JOIN points_entries AS e ON e.customer_id = c.id{after} "
        "WHERE c.id = {p} ORDER BY e.at DESC, e.id DESC LIMIT {p}"
    )


def _changes(body: str, only: str) -> str:
    """A page of the change feed and, in a row of its own (no position; the bound in the
    last column), the last position given out: one statement, so one snapshot, and no change
    positioned between two reads is passed over. The body comes as its stored JSON text, to
    be copied into the answer unparsed."""
    return (
        f"SELECT * FROM (SELECT o.position, o.type, o.subject, o.purpose, {body}, o.created_at "
        "FROM outbox AS o WHERE o.position > {p} "
        f"AND o.position <= (SELECT max(position) FROM outbox){only} "
        "ORDER BY o.position LIMIT {p}) AS page "
        "UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, coalesce(max(position), 0) FROM outbox"
    )


# PostgreSQL: the same reads for many requests in one statement (as the checks are read,
# api/check_batch): the questions as arrays, each row led by its question's number (from 1).
_QUESTIONS_BY_ID = (
    "unnest(%s::text[]) WITH ORDINALITY AS q(id, n) JOIN customers AS c ON c.id = q.id"
)
_QUESTIONS_BY_IDENTIFIER = (
    "unnest(%s::text[], %s::text[]) WITH ORDINALITY AS q(kind, blind, n) "
    "JOIN identifiers AS i ON i.kind = q.kind AND i.blind = q.blind"
)
# The card-less pair: at most two active customers each (two are reported as ambiguous).
_QUESTIONS_BY_PAIR = (
    "unnest(%s::text[]) WITH ORDINALITY AS q(blind, n) CROSS JOIN LATERAL (SELECT id FROM "
    "customers WHERE pair_blind = q.blind AND status = 'active' ORDER BY id LIMIT 2) AS p"
)


def _many_points(questions: str, after: str) -> str:
    return (
        f"SELECT q.n, {_CUSTOMER}, (SELECT balance FROM points_accounts "
        "WHERE customer_id = c.id), e.id, e.points, e.question_id, e.reason, e.at "
        f"FROM {questions} JOIN customers AS c ON c.id = q.id LEFT JOIN LATERAL (SELECT e.id, "
        "e.points, e.question_id, e.reason, e.at FROM points_entries AS e "
        f"WHERE e.customer_id = c.id{after} ORDER BY e.at DESC, e.id DESC LIMIT q.lim) AS e "
        "ON true ORDER BY q.n, e.at DESC, e.id DESC"
    )


_MANY = {
    "states_by_id": (
        f"SELECT q.n, {_CUSTOMER}, {FINGERPRINT}, {_STATE} "
        f"FROM {_QUESTIONS_BY_ID} LEFT JOIN consent_state AS s ON s.customer_id = c.id"
    ),
    "states_by_identifier": (
        f"SELECT q.n, {_CUSTOMER}, {FINGERPRINT}, {_STATE} "
        f"FROM {_QUESTIONS_BY_IDENTIFIER} JOIN customers AS c ON c.id = i.customer_id "
        "LEFT JOIN consent_state AS s ON s.customer_id = c.id"
    ),
    "id_by_identifier": f"SELECT q.n, i.customer_id FROM {_QUESTIONS_BY_IDENTIFIER}",
    "profile": (
        f"SELECT q.n, {_CUSTOMER}, i.kind, i.value_sealed FROM {_QUESTIONS_BY_ID} "
        "LEFT JOIN identifiers AS i ON i.customer_id = c.id ORDER BY q.n, i.kind"
    ),
    "states_by_pair": (
        f"SELECT q.n, {_CUSTOMER}, {FINGERPRINT}, {_STATE} "
        f"FROM {_QUESTIONS_BY_PAIR} JOIN customers AS c ON c.id = p.id "
        "LEFT JOIN consent_state AS s ON s.customer_id = c.id"
    ),
    "ids_by_pair": f"SELECT q.n, p.id FROM {_QUESTIONS_BY_PAIR} ORDER BY q.n, p.id",
    # The pages: each question's own cursor and limit, in a LATERAL subquery.
    "history": (
        f"SELECT q.n, {_CUSTOMER}, r.pk, l.seq, r.leaf, r.leaf_hash, o.sealed "
        "FROM unnest(%s::bigint[], %s::text[], %s::int[]) WITH ORDINALITY AS q(after, id, lim, n) "
        "JOIN customers AS c ON c.id = q.id LEFT JOIN LATERAL (SELECT r.pk, r.id, r.leaf, "
        "r.leaf_hash FROM evidence_records AS r WHERE r.customer_id = c.id AND r.pk > q.after "
        "ORDER BY r.pk LIMIT q.lim) AS r ON true "
        "LEFT JOIN log_leaves AS l ON l.record_pk = r.pk "
        "LEFT JOIN evidence_openings AS o ON o.record_id = r.id ORDER BY q.n, r.pk"
    ),
    "points_first": _many_points(
        "unnest(%s::text[], %s::int[]) WITH ORDINALITY AS q(id, lim, n)", ""
    ),
    "points_after": _many_points(
        "unnest(%s::text[], %s::text[], %s::int[]) WITH ORDINALITY AS q(after, id, lim, n)",
        " AND EXISTS (SELECT 1 FROM points_entries AS cursor_entry "
        "WHERE cursor_entry.id = q.after AND cursor_entry.customer_id = c.id "
        "AND (e.at < cursor_entry.at OR (e.at = cursor_entry.at AND e.id < cursor_entry.id)))",
    ),
    "answers": (
        f"SELECT q.n, {_CUSTOMER}, a.question_id, a.status, a.sealed, a.channel, "
        f"a.actor_type, a.answered_at, a.expires_at FROM {_QUESTIONS_BY_ID} "
        "LEFT JOIN answers AS a ON a.customer_id = c.id "
        "ORDER BY q.n, a.answered_at DESC, a.question_id"
    ),
}

_WIDTH = len(CUSTOMER_COLUMNS.split(", "))


Rows = list[Sequence[Any]]
_Batch = tuple[asyncio.AbstractEventLoop, str]


class CustomerStates:
    """A customer's row and consent state rows, and the purpose catalogue's fingerprint."""

    __slots__ = ("customer", "entries", "fingerprint")

    def __init__(self, rows: list[Sequence[Any]]) -> None:
        first = rows[0]
        self.customer: CustomerRow = row_of(first[:_WIDTH])
        self.fingerprint: str = str(first[_WIDTH])
        self.entries: dict[tuple[str, str], ConsentEntry] = {
            (r[_WIDTH + 1], r[_WIDTH + 2]): ConsentEntry(Action(r[_WIDTH + 3]), *r[_WIDTH + 4 :])
            for r in rows
            if r[_WIDTH + 1] is not None
        }


def _grouped(rows: list[Sequence[Any]]) -> list[CustomerStates]:
    """Rows of several customers (the pair look-up) grouped by customer, in order."""
    by_customer: dict[str, list[Sequence[Any]]] = {}
    for row in rows:
        by_customer.setdefault(row[0], []).append(row)
    return [CustomerStates(group) for group in by_customer.values()]


class QuickReader:
    def __init__(self, db: Database, checks: CheckReader, pool_size: int = 8) -> None:
        self.db = db
        self.checks = checks
        self.pool_size = pool_size
        p = "?" if db.is_sqlite else "%s"
        body = "o.body" if db.is_sqlite else "o.body::text"
        # A list of values as one parameter: a JSON array on SQLite, an array on PostgreSQL.
        listed = (
            "(SELECT value FROM json_each({p}))" if db.is_sqlite else "(SELECT unnest({p}::text[]))"
        )
        self._sql = {
            name: sql.format(p=p)
            for name, sql in {
                "states_by_id": _states(*_BY_ID),
                "states_by_identifier": _states(*_BY_IDENTIFIER),
                "states_by_pair": _states(*_BY_PAIR),
                "id_by_identifier": _ID_BY_IDENTIFIER,
                "ids_by_pair": _PAIR_IDS,
                "profile": _PROFILE,
                "centre": _CENTRE,
                "purposes": _PURPOSES,
                "history": _HISTORY,
                "answers": _ANSWERS,
                "points_first": _points(""),
                "changes": _changes(body, ""),
                # Only the changes about these purposes or about none (erasure, restriction).
                "changes_of": _changes(body, f" AND (o.purpose IS NULL OR o.purpose IN {listed})"),
                # An unknown cursor gives an empty page, as before (the customer's row comes).
                "points_after": _points(
                    " AND EXISTS (SELECT 1 FROM points_entries AS n WHERE n.id = {p} "
                    "AND n.customer_id = c.id AND (e.at < n.at OR (e.at = n.at AND e.id < n.id)))"
                ),
            }.items()
        }
        self._pools: dict[asyncio.AbstractEventLoop, AsyncConnectionPool[Any]] = {}
        # Per event loop and statement: the questions waiting for the next read, and the
        # task reading (one read of a statement in flight at a time).
        self._waiting: dict[_Batch, list[tuple[tuple[Any, ...], asyncio.Future[Rows]]]] = {}
        self._reading: dict[_Batch, asyncio.Task[None]] = {}

    async def fetch(self, name: str, params: Sequence[Any]) -> Rows:
        """The rows of the named statement."""
        if not self.db.is_postgres:
            return list(self.checks.execute(self._sql[name], tuple(params)).fetchall())
        if name in _MANY:
            return await self._together(name, tuple(params))
        return await self._run(self._sql[name], tuple(params))

    async def _together(self, name: str, params: tuple[Any, ...]) -> Rows:
        """PostgreSQL: the read made with the other requests' reads of the same statement
        that arrive while one is out: the round trip and the statement's fixed cost (on both
        sides, and the pool's) paid once for all of them. A lone read goes at once."""
        loop = asyncio.get_running_loop()
        batch = (loop, name)
        future: asyncio.Future[Rows] = loop.create_future()
        self._waiting.setdefault(batch, []).append((params, future))
        if batch not in self._reading:
            self._reading[batch] = loop.create_task(self._read_together(batch))
        return await future

    async def _read_together(self, batch: _Batch) -> None:
        try:
            while waiting := self._waiting.pop(batch, None):
                arrays = [list(column) for column in zip(*(p for p, _ in waiting), strict=True)]
                try:
                    rows = await self._run(_MANY[batch[1]], tuple(arrays))
                except Exception as exc:
                    for _, future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                answers: list[Rows] = [[] for _ in waiting]
                for row in rows:
                    answers[row[0] - 1].append(row[1:])
                for (_, future), answer in zip(waiting, answers, strict=True):
                    if not future.done():  # else the request was given up
                        future.set_result(answer)
        finally:
            del self._reading[batch]

    async def _run(self, sql: str, params: tuple[Any, ...]) -> Rows:
        for attempt in (1, 2):
            pool = self._pools.get(asyncio.get_running_loop())
            try:
                # Deadlines of our own, as the check's: a server that stopped answering would
                # keep the request waiting for ever.
                async with asyncio.timeout(self.db.timeouts.statement_ms / 1000 or None):
                    if pool is None:
                        return await self._run_alone(sql, params)
                    async with pool.connection(timeout=self.db.timeouts.pool) as connection:
                        cursor = await connection.execute(sql, params)
                        return list(await cursor.fetchall())
            except TimeoutError:
                raise psycopg.OperationalError("the database did not answer in time") from None
            except psycopg.OperationalError:
                # A connection the database dropped (a restart): the pool discards it; a
                # read changes nothing, so it is made again, once.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _run_alone(self, sql: str, params: tuple[Any, ...]) -> Rows:
        """On a loop that opened no pool (one that serves a single request, as a test client
        without its lifespan does): a connection of its own, closed after the read. A pool
        there would keep background tasks on a loop that is about to end."""
        args, kwargs = self._connect_args()
        async with await psycopg.AsyncConnection.connect(args, **kwargs) as connection:
            set_json_loads(orjson.loads, connection)
            cursor = await connection.execute(sql, params)
            return list(await cursor.fetchall())

    def _connect_args(self) -> tuple[str, dict[str, Any]]:
        args, kwargs = self.db.engine.dialect.create_connect_args(self.db.engine.url)
        kwargs.update(self.db.timeouts.connect_args(), autocommit=True)
        return (args[0] if args else ""), dict(kwargs)

    async def open_async(self) -> None:
        """Open the running loop's pool (the server's start, on its loop): reads on this loop
        share its connections until ``close_async``. PostgreSQL only."""
        loop = asyncio.get_running_loop()
        if not self.db.is_postgres or loop in self._pools:
            return
        self._forget_closed_loops()
        conninfo, kwargs = self._connect_args()

        async def configure(connection: psycopg.AsyncConnection[Any]) -> None:
            set_json_loads(orjson.loads, connection)  # as the engine's connections do

        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            conninfo,
            kwargs=kwargs,
            min_size=1,
            max_size=self.pool_size,
            configure=configure,
            open=False,
            timeout=self.db.timeouts.pool,
        )
        self._pools[loop] = pool
        await pool.open()

    async def states(self, by: str, *params: Any) -> list[CustomerStates]:
        """The customers found ``by`` "id", "identifier" (kind, blind) or "pair" (blind),
        each with their consent states."""
        return _grouped(await self.fetch(f"states_by_{by}", params))

    async def session_states(
        self, token_hash: str
    ) -> tuple[Sequence[Any], CustomerStates | None] | None:
        """A web session's (customer_id, staff_id, csrf, expires_at) and its customer with
        their consent states (None: a session of no customer), or None: no such session."""
        rows = await self.fetch("centre", (token_hash,))
        if not rows:
            return None
        if rows[0][0] is None or rows[0][4] is None:
            return rows[0][:4], None
        return rows[0][:4], CustomerStates([row[4:] for row in rows])

    async def changes(
        self, position: int, limit: int, purposes: frozenset[str] | None
    ) -> tuple[int, Rows]:
        """The feed's last position, and up to ``limit`` changes after ``position`` (only
        those about ``purposes`` or about none, when given): (position, type, subject,
        purpose, body as JSON text, created_at)."""
        if purposes is None:
            rows = await self.fetch("changes", (position, limit))
        else:
            listed: Any = sorted(purposes)
            listed = orjson.dumps(listed).decode() if self.db.is_sqlite else listed
            rows = await self.fetch("changes_of", (position, listed, limit))
        page = sorted((r for r in rows if r[0] is not None), key=lambda r: r[0])
        bound = next(r[5] for r in rows if r[0] is None)
        return int(bound), page

    async def purposes(self) -> tuple[str, list[Purpose]]:
        rows = await self.fetch("purposes", ())
        fingerprint = str(rows[0][13]) if rows else "0::"
        return fingerprint, [purpose_of(row) for row in rows]

    async def close_async(self) -> None:
        """Close the running loop's pool (the server's shutdown, on its loop)."""
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    def _forget_closed_loops(self) -> None:
        """Pools of loops that ended without close_async (a test client's): their
        connections are closed, without the loop they would need to close them politely."""
        for loop in [loop for loop in self._pools if loop.is_closed()]:
            _abandon(self._pools.pop(loop))

    def close(self) -> None:
        for pool in self._pools.values():  # loops that ended without close_async
            _abandon(pool)
        self._pools.clear()


def _abandon(pool: AsyncConnectionPool[Any]) -> None:
    # The pool's idle connections (psycopg_pool keeps them in ``_pool``): in use, there are none
    # once the loop has ended.
    for connection in getattr(pool, "_pool", ()):
        with contextlib.suppress(Exception):
            connection.pgconn.finish()


def customer_of(row: Sequence[Any]) -> CustomerRow:
    return row_of(row[:_WIDTH])


def rest_of(row: Sequence[Any]) -> Sequence[Any]:
    """The columns after the customer's."""
    return row[_WIDTH:]
