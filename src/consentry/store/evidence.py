"""The log as stored: pending leaves, sequence numbers, the tree's frontier, signed heads."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from consentry.domain.heads import TreeHead
from consentry.store.bulk import insert_rows, is_in
from consentry.store.database import Database, dbapi_cursor
from consentry.store.tables import (
    evidence_records,
    log_leaves,
    pending_leaves,
    tree_heads,
    tree_state,
)


def pending(conn: Connection, limit: int) -> list[tuple[int, bytes]]:
    """(record pk, leaf hash) of the leaves waiting for the sequencer, in write order."""
    # The driver's cursor: SQLAlchemy's row objects for a batch of 20,000 cost a third of
    # the sequencer's time on SQLite.
    cursor, p = dbapi_cursor(conn)
    cursor.execute(
        f"SELECT record_pk, leaf_hash FROM {pending_leaves.name} ORDER BY record_pk LIMIT {p}",
        (limit,),
    )
    return [(pk, bytes(leaf)) for pk, leaf in cursor.fetchall()]


def add_pending(conn: Connection, rows: Sequence[tuple[int, bytes]]) -> None:
    """(record pk, leaf hash) of records just appended, for the sequencer."""
    insert_rows(conn, pending_leaves, ("record_pk", "leaf_hash"), rows)


def integrate_leaves(conn: Connection, leaves: Sequence[tuple[int, int, bytes]]) -> None:
    """(seq, record pk, leaf hash) of the leaves just integrated: into the log, out of the
    pending ones (exactly these: on PostgreSQL a record of a lower pk may have committed since
    they were read, and must stay pending)."""
    insert_rows(conn, log_leaves, ("seq", "record_pk", "leaf_hash"), leaves)
    pks = [pk for _, pk, _ in leaves]
    conn.execute(delete(pending_leaves).where(is_in(conn, pending_leaves.c.record_pk, pks)))


def frontier(conn: Connection) -> tuple[int, list[bytes]] | None:
    """The tree's size and right frontier; None before the first head was signed."""
    row = conn.execute(select(tree_state).where(tree_state.c.id == 1)).first()
    if row is None:
        return None
    return row.size, [bytes.fromhex(h) for h in row.frontier]


def put_frontier(conn: Connection, size: int, hashes: list[bytes], existed: bool) -> None:
    values = {"size": size, "frontier": [h.hex() for h in hashes]}
    if existed:
        conn.execute(update(tree_state).where(tree_state.c.id == 1).values(**values))
    else:
        conn.execute(tree_state.insert().values(id=1, **values))


def insert_head(conn: Connection, head: TreeHead, signed_at: int) -> None:
    conn.execute(
        tree_heads.insert().values(
            size=head.size,
            root_hash=head.root_hash,
            timestamp=head.timestamp,
            signature=head.signature,
            key_id=head.key_id,
            signed_at=signed_at,
        )
    )


def _head(row: Any) -> TreeHead:
    return TreeHead(row.size, row.root_hash, row.timestamp, row.signature, row.key_id)


def latest_head(conn: Connection) -> TreeHead | None:
    row = conn.execute(select(tree_heads).order_by(tree_heads.c.size.desc()).limit(1)).first()
    return _head(row) if row else None


def leaf_hashes(conn: Connection, start: int, limit: int) -> list[bytes]:
    rows = conn.execute(
        select(log_leaves.c.leaf_hash)
        .where(log_leaves.c.seq >= start, log_leaves.c.seq < start + limit)
        .order_by(log_leaves.c.seq)
    )
    return [bytes(r.leaf_hash) for r in rows]


def seq_of(conn: Connection, record_id: str) -> tuple[int | None, bytes] | None:
    row = conn.execute(
        select(log_leaves.c.seq, evidence_records.c.leaf_hash)
        .select_from(
            evidence_records.outerjoin(log_leaves, log_leaves.c.record_pk == evidence_records.c.pk)
        )
        .where(evidence_records.c.id == record_id)
    ).first()
    return (row.seq, bytes(row.leaf_hash)) if row else None


def export_rows(
    db: Database, size: int, chunk: int = 20_000, start: int = 0
) -> Iterator[tuple[int, bytes, bytes]]:
    """(seq, leaf, leaf_hash) for start <= seq < size, in order, read in short transactions."""
    while start < size:
        with db.read() as conn:
            rows = list(
                conn.execute(
                    select(log_leaves.c.seq, evidence_records.c.leaf, log_leaves.c.leaf_hash)
                    .select_from(
                        log_leaves.join(
                            evidence_records, evidence_records.c.pk == log_leaves.c.record_pk
                        )
                    )
                    .where(log_leaves.c.seq >= start, log_leaves.c.seq < min(size, start + chunk))
                    .order_by(log_leaves.c.seq)
                )
            )
        for r in rows:
            yield r.seq, bytes(r.leaf), bytes(r.leaf_hash)
        start += chunk
