"""How far each reader of the outbox (the insights counter, the NATS mirror) has got."""

from __future__ import annotations

from sqlalchemy import Connection, select

from consentry.store.tables import mirror_positions


def place(conn: Connection, name: str) -> int:
    found = conn.execute(
        select(mirror_positions.c.position).where(mirror_positions.c.name == name)
    ).scalar()
    return int(found) if found is not None else 0


def set_place(conn: Connection, name: str, position: int) -> None:
    moved = conn.execute(
        mirror_positions.update().where(mirror_positions.c.name == name).values(position=position)
    ).rowcount
    if not moved:
        conn.execute(mirror_positions.insert().values(name=name, position=position))
