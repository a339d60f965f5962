"""The outbox as stored: changes appended by the transactions that make them, sequenced into
feed positions, read by the change feed and the webhook dispatcher."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, or_, select

from consentry.store.bulk import insert_rows, update_rows
from consentry.store.tables import outbox

_INSERT = insert(outbox)


@dataclass(frozen=True)
class Announcement:
    """The outbox row of a change, for a store function that writes it with the change itself
    (store.consents.append_change)."""

    type: str
    subject: str
    purpose: str | None
    body: dict[str, Any]
    created_at: int


def append(
    conn: Connection,
    change_type: str,
    subject: str,
    purpose: str | None,
    body: dict[str, Any],
    now: int,
) -> None:
    conn.execute(
        _INSERT,
        {
            "type": change_type,
            "subject": subject,
            "purpose": purpose,
            "body": body,
            "created_at": now,
        },
    )


_COLUMNS = ("type", "subject", "purpose", "body", "created_at")


def append_many(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    insert_rows(conn, outbox, _COLUMNS, [[row[name] for name in _COLUMNS] for row in rows])


def pending(conn: Connection, limit: int) -> list[int]:
    return list(
        conn.execute(
            select(outbox.c.pk)
            .where(outbox.c.position.is_(None))
            .order_by(outbox.c.pk)
            .limit(limit)
        ).scalars()
    )


def last_position(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(outbox.c.position), 0))).scalar_one())


def assign_positions(conn: Connection, pairs: Sequence[tuple[int, int]]) -> None:
    """(pk, position) of the changes just given their place in the feed."""
    update_rows(conn, outbox, ("pk",), ("position",), [(position, pk) for pk, position in pairs])


def after(
    conn: Connection, position: int, bound: int, limit: int, purposes: frozenset[str] | None
) -> list[Any]:
    """Sequenced changes after ``position`` up to ``bound``, in order; only those about
    ``purposes`` (or about no purpose) when given."""
    query = (
        select(outbox)
        .where(outbox.c.position > position, outbox.c.position <= bound)
        .order_by(outbox.c.position)
        .limit(limit)
    )
    if purposes is not None:
        query = query.where(or_(outbox.c.purpose.is_(None), outbox.c.purpose.in_(sorted(purposes))))
    return list(conn.execute(query))


def of_subject(conn: Connection, subject: str) -> list[Any]:
    return list(
        conn.execute(select(outbox).where(outbox.c.subject == subject).order_by(outbox.c.pk))
    )


def forget_before(conn: Connection, before: int, limit: int) -> int:
    old = (
        select(outbox.c.pk)
        .where(outbox.c.created_at < before, outbox.c.position.is_not(None))
        .limit(limit)
    )
    return int(conn.execute(delete(outbox).where(outbox.c.pk.in_(old))).rowcount)
