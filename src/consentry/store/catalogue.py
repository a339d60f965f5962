"""The catalogue as stored: categories, sensitive topics, products, offers, complements, and
the version that tells each process's cache when to read them again."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from consentry.store.tables import (
    catalogue_version,
    categories,
    complements,
    offers,
    products,
    sensitive_topics,
)


def version(conn: Connection) -> int:
    return int(
        conn.execute(select(func.coalesce(func.max(catalogue_version.c.version), 0))).scalar_one()
    )


def bump(conn: Connection) -> None:
    """Called in every transaction that changes the catalogue."""
    moved = conn.execute(
        update(catalogue_version).values(version=catalogue_version.c.version + 1)
    ).rowcount
    if not moved:  # the row is made by the migration; a truncated table starts again
        conn.execute(insert(catalogue_version).values(id=1, version=1))


def replace_catalogue(
    conn: Connection,
    category_rows: Sequence[dict[str, Any]],
    topic_rows: Sequence[dict[str, Any]],
    product_rows: Sequence[dict[str, Any]],
) -> None:
    for table in (categories, sensitive_topics, products):
        conn.execute(delete(table))
    if category_rows:
        conn.execute(insert(categories), list(category_rows))
    if topic_rows:
        conn.execute(insert(sensitive_topics), list(topic_rows))
    if product_rows:
        conn.execute(insert(products), list(product_rows))
    bump(conn)


def all_categories(conn: Connection) -> list[Any]:
    return list(conn.execute(select(categories).order_by(categories.c.path)))


def all_topics(conn: Connection) -> list[Any]:
    return list(conn.execute(select(sensitive_topics).order_by(sensitive_topics.c.id)))


def all_products(conn: Connection) -> list[Any]:
    return list(conn.execute(select(products)))


def counts(conn: Connection) -> tuple[int, int, int]:
    return (
        int(conn.execute(select(func.count()).select_from(categories)).scalar_one()),
        int(conn.execute(select(func.count()).select_from(sensitive_topics)).scalar_one()),
        int(conn.execute(select(func.count()).select_from(products)).scalar_one()),
    )


# -- offers


def all_offers(conn: Connection) -> list[Any]:
    return list(conn.execute(select(offers).order_by(offers.c.position, offers.c.id)))


def get_offer(conn: Connection, offer_id: str) -> Any:
    return conn.execute(select(offers).where(offers.c.id == offer_id)).first()


def offer_page(conn: Connection, after: str | None, limit: int) -> list[Any]:
    query = select(offers).order_by(offers.c.id).limit(limit)
    if after is not None:
        query = query.where(offers.c.id > after)
    return list(conn.execute(query))


def next_position(conn: Connection) -> int:
    return (
        int(conn.execute(select(func.coalesce(func.max(offers.c.position), -1))).scalar_one()) + 1
    )


def insert_offer(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(offers).values(**row))
    bump(conn)


def update_offer(conn: Connection, offer_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(offers).where(offers.c.id == offer_id).values(**values))
    bump(conn)


# -- complements


def replace_complements(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    conn.execute(delete(complements))
    if rows:
        conn.execute(insert(complements), list(rows))
    bump(conn)


def all_complements(conn: Connection) -> list[Any]:
    return list(conn.execute(select(complements)))
