"""Apps (integrations) and their hashed keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from consentry.domain.access import RegisteredApp
from consentry.store.tables import apps


def _row(row: Any) -> RegisteredApp:
    return RegisteredApp(
        row.id, row.name, tuple(row.scopes), tuple(row.purposes), row.created_at, row.revoked_at
    )


def insert(conn: Connection, app: RegisteredApp, key_hash: str) -> None:
    conn.execute(
        apps.insert().values(
            id=app.id,
            name=app.name,
            scopes=list(app.scopes),
            purposes=list(app.purposes),
            key_hash=key_hash,
            created_at=app.created_at,
        )
    )


def by_key_hash(conn: Connection, key_hash: str) -> RegisteredApp | None:
    row = conn.execute(select(apps).where(apps.c.key_hash == key_hash)).first()
    return _row(row) if row else None


def by_name(conn: Connection, name: str) -> RegisteredApp | None:
    row = conn.execute(select(apps).where(apps.c.name == name, apps.c.revoked_at.is_(None))).first()
    return _row(row) if row else None


def get(conn: Connection, app_id: str) -> RegisteredApp | None:
    row = conn.execute(select(apps).where(apps.c.id == app_id)).first()
    return _row(row) if row else None


def page(conn: Connection, after: str | None, limit: int) -> list[RegisteredApp]:
    query = select(apps).order_by(apps.c.id).limit(limit)
    if after is not None:
        query = query.where(apps.c.id > after)
    return [_row(r) for r in conn.execute(query)]


def revoke(conn: Connection, app_id: str, when: int) -> bool:
    result = conn.execute(
        update(apps).where(apps.c.id == app_id, apps.c.revoked_at.is_(None)).values(revoked_at=when)
    )
    return result.rowcount > 0


def set_key_hash(conn: Connection, app_id: str, key_hash: str) -> None:
    conn.execute(update(apps).where(apps.c.id == app_id).values(key_hash=key_hash))
