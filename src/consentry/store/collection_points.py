"""Collection points, their versions, and the submissions they received."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from consentry.store.tables import (
    collection_point_versions,
    collection_points,
    collection_submissions,
)


def insert_point(conn: Connection, **values: Any) -> None:
    conn.execute(insert(collection_points).values(**values))
    insert_version(
        conn, values["id"], values["version"], values["definition"], values["created_at"]
    )


def insert_version(
    conn: Connection, point_id: str, version: int, definition: dict[str, Any], at: int
) -> None:
    conn.execute(
        insert(collection_point_versions).values(
            point_id=point_id, version=version, definition=definition, created_at=at
        )
    )


def get(conn: Connection, point_id: str, *, for_update: bool = False) -> Any | None:
    query = select(collection_points).where(collection_points.c.id == point_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return conn.execute(query).first()


def replace(conn: Connection, point_id: str, **values: Any) -> None:
    conn.execute(
        update(collection_points).where(collection_points.c.id == point_id).values(**values)
    )


def all_points(conn: Connection) -> list[Any]:
    return list(conn.execute(select(collection_points).order_by(collection_points.c.id)))


def versions(conn: Connection, point_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(collection_point_versions)
            .where(collection_point_versions.c.point_id == point_id)
            .order_by(collection_point_versions.c.version)
        )
    )


def insert_submission(conn: Connection, **values: Any) -> None:
    conn.execute(insert(collection_submissions).values(**values))


def submissions_of(conn: Connection, customer_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(collection_submissions)
            .where(collection_submissions.c.customer_id == customer_id)
            .order_by(collection_submissions.c.submitted_at)
        )
    )


def tallies(conn: Connection, point_id: str, first: date, last: date) -> list[Any]:
    """How many submissions of each version, wording and set of choices the point received in
    the range: the console's rates come from these (k-anonymously, services)."""
    c = collection_submissions.c
    return list(
        conn.execute(
            select(c.version, c.variant, c.chosen, func.count().label("n"))
            .where(c.point_id == point_id, c.day >= first, c.day <= last)
            .group_by(c.version, c.variant, c.chosen)
        )
    )


def submission_counts(conn: Connection) -> dict[str, int]:
    c = collection_submissions.c
    rows = conn.execute(select(c.point_id, func.count()).group_by(c.point_id))
    return {point: int(n) for point, n in rows}
