"""Many rows in one go: the importer's, the sequencers' and the insight counter's writes.

SQLite takes them as one ``executemany`` (its per-row work is in C). PostgreSQL takes them as
one statement over arrays, one array per column (``unnest``), whatever the number of rows:
psycopg's ``executemany`` sends a statement per row (in a pipeline, but with its Python work
per row: 5 of the 13 seconds of importing 40,000 rows), and SQLAlchemy's multi-row VALUES
statements change their text with the row count, so psycopg converts each one's placeholders
anew in Python (a third of a server process's CPU for the insight counter at 700 consent
changes a second). An ``unnest`` statement's text never changes: psycopg converts and
PostgreSQL plans it once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    ColumnElement,
    Connection,
    String,
    Table,
    any_,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from consentry.store.database import dbapi_cursor


def insert_rows(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows``, each a tuple of the ``names`` columns' values."""
    if not rows:
        return
    cursor, p = dbapi_cursor(conn)
    if p == "?":
        cursor.executemany(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            _encoded(table, names, rows),
        )
        return
    unnested_insert(conn, table, names, rows)


def unnested_insert(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
    tail: str = "",
) -> list[Any]:
    """PostgreSQL only: insert ``rows`` (tuples in ``names`` order) with one statement over
    one array per column; ``tail`` may add ON CONFLICT and RETURNING. The rows it returns."""
    if not rows:
        return []
    cursor, _ = dbapi_cursor(conn)
    cursor.execute(
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"SELECT * FROM {_arrays(conn, table, names)} {tail}",
        _columns(table, names, rows),
    )
    return cursor.fetchall() if cursor.description else []


def is_in(
    conn: Connection, column: ColumnElement[Any], values: Sequence[Any]
) -> ColumnElement[bool]:
    """``column IN values`` with one parameter however many values: on PostgreSQL
    ``column = ANY(array)``, on SQLite ``column IN (SELECT value FROM json_each(text))``. The
    statement's text does not grow with the values, so it is compiled once (SQLAlchemy renders
    an IN list's placeholders anew on every execution: a tenth of an import's time) and, on
    PostgreSQL, psycopg converts it once."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    listed = bindparam(None, orjson.dumps(list(values)).decode(), type_=String)
    return column.in_(select(func.json_each(listed).table_valued("value").c.value))


def update_rows(
    conn: Connection,
    table: Table,
    keys: Sequence[str],
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Set the ``names`` columns of the rows found by the ``keys`` columns; ``rows`` are tuples
    of the ``names`` values, then the ``keys`` values. One row to change per key."""
    if not rows:
        return
    cursor, p = dbapi_cursor(conn)
    if p == "?":
        assignments = ", ".join(f"{name} = ?" for name in names)
        where = " AND ".join(f"{key} = ?" for key in keys)
        cursor.executemany(f"UPDATE {table.name} SET {assignments} WHERE {where}", rows)
        return
    every = (*names, *keys)
    assignments = ", ".join(f"{name} = u.{name}" for name in names)
    where = " AND ".join(f"t.{key} = u.{key}" for key in keys)
    cursor.execute(
        f"UPDATE {table.name} AS t SET {assignments} "
        f"FROM {_arrays(conn, table, every)} AS u({', '.join(every)}) WHERE {where}",
        _columns(table, every, rows),
    )


def _arrays(conn: Connection, table: Table, names: Sequence[str]) -> str:
    kinds = [table.c[name].type.compile(dialect=conn.dialect) for name in names]
    return "unnest(" + ", ".join(f"%b::{kind}[]" for kind in kinds) + ")"


def _columns(table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    return [list(column) for column in zip(*_encoded(table, names, rows), strict=True)]


def _encoded(
    table: Table, names: Sequence[str], rows: Sequence[Sequence[Any]]
) -> Sequence[Sequence[Any]]:
    """JSON columns' values as JSON text, as SQLAlchemy would write them."""
    json = [i for i, name in enumerate(names) if isinstance(table.c[name].type, JSON)]
    if not json:
        return rows
    encoded = []
    for row in rows:
        values = list(row)
        for i in json:
            if values[i] is not None:
                values[i] = orjson.dumps(values[i]).decode()
        encoded.append(values)
    return encoded
