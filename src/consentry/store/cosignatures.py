"""Witnesses' cosignatures of the log's checkpoints."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from consentry.store.tables import cosignatures


def keep(conn: Connection, row: dict[str, Any]) -> None:
    """A witness's cosignature of the checkpoint of this size (a newer one of the same size,
    from the same witness, replaces it: only its time differs)."""
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        cosignatures
    )
    replace = {n: insert.excluded[n] for n in ("key_id", "signature", "cosigned_at", "received_at")}
    conn.execute(
        insert.values(row).on_conflict_do_update(
            index_elements=["witness", "size"],
            set_=replace,
            where=cosignatures.c.root_hash == insert.excluded.root_hash,
        )
    )


def of_checkpoint(conn: Connection, size: int, root_hash: str) -> list[Any]:
    return list(
        conn.execute(
            select(cosignatures)
            .where(cosignatures.c.size == size, cosignatures.c.root_hash == root_hash)
            .order_by(cosignatures.c.witness)
        )
    )


def best_covering(conn: Connection, index: int) -> tuple[int, str] | None:
    """The (size, root) of the checkpoint holding leaf ``index`` that most witnesses cosigned
    (the newest of equals), or None if no cosigned checkpoint holds it yet."""
    witnesses = func.count()
    row = conn.execute(
        select(cosignatures.c.size, cosignatures.c.root_hash)
        .where(cosignatures.c.size > index)
        .group_by(cosignatures.c.size, cosignatures.c.root_hash)
        .order_by(witnesses.desc(), cosignatures.c.size.desc())
        .limit(1)
    ).first()
    return (int(row.size), str(row.root_hash)) if row else None


def latest_per_witness(conn: Connection) -> dict[str, Any]:
    """Each witness's newest cosignature (by size): its size, root, and times."""
    newest = (
        select(cosignatures.c.witness, func.max(cosignatures.c.size).label("size"))
        .group_by(cosignatures.c.witness)
        .subquery()
    )
    rows = conn.execute(
        select(cosignatures).join(
            newest,
            (newest.c.witness == cosignatures.c.witness) & (newest.c.size == cosignatures.c.size),
        )
    )
    return {row.witness: row for row in rows}
