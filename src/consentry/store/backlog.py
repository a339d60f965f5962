"""How far the background work is behind, for the metrics: leaves not yet in the tree, changes
not yet given a feed position, webhook deliveries not yet made, the last signed head's age."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from consentry.store.tables import outbox, pending_leaves, tree_heads, webhook_deliveries


@dataclass(frozen=True)
class Backlog:
    pending_leaves: int
    unsequenced_changes: int
    deliveries_due: int  # pending or being delivered
    log_size: int
    head_signed_at: int | None  # µs


def backlog(conn: Connection) -> Backlog:
    def count(query: object) -> int:
        return int(conn.execute(query).scalar() or 0)  # type: ignore[call-overload]

    head = conn.execute(
        select(tree_heads.c.size, tree_heads.c.signed_at)
        .order_by(tree_heads.c.size.desc())
        .limit(1)
    ).first()
    return Backlog(
        pending_leaves=count(select(func.count()).select_from(pending_leaves)),
        unsequenced_changes=count(
            select(func.count()).select_from(outbox).where(outbox.c.position.is_(None))
        ),
        deliveries_due=count(
            select(func.count())
            .select_from(webhook_deliveries)
            .where(webhook_deliveries.c.status.in_(("pending", "delivering")))
        ),
        log_size=int(head.size) if head else 0,
        head_signed_at=int(head.signed_at) if head else None,
    )
