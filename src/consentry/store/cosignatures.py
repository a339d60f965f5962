"""Witnesses' cosignatures of the log's checkpoints."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select
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
