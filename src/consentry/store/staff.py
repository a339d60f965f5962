"""Staff accounts, as stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from consentry.domain.staff import StaffMember
from consentry.store.tables import staff


def _row(row: Any) -> StaffMember:
    return StaffMember(
        row.id,
        row.username,
        row.display_name,
        row.password_hash,
        row.desk,
        row.location,
        row.failed_attempts,
        row.locked_until,
        row.disabled_at,
        row.console_role,
    )


def insert(conn: Connection, row: StaffMember, now: int) -> None:
    conn.execute(
        staff.insert().values(
            id=row.id,
            username=row.username,
            display_name=row.display_name,
            password_hash=row.password_hash,
            desk=row.desk,
            location=row.location,
            created_at=now,
            console_role=row.console_role,
        )
    )


def by_username(conn: Connection, username: str, *, for_update: bool = False) -> StaffMember | None:
    query = select(staff).where(staff.c.username == username)
    row = conn.execute(query.with_for_update() if for_update else query).first()
    return _row(row) if row else None


def get(conn: Connection, staff_id: str) -> StaffMember | None:
    row = conn.execute(select(staff).where(staff.c.id == staff_id)).first()
    return _row(row) if row else None


def record_failure(
    conn: Connection, staff_id: str, attempts: int, locked_until: int | None
) -> None:
    conn.execute(
        update(staff)
        .where(staff.c.id == staff_id)
        .values(failed_attempts=attempts, locked_until=locked_until)
    )


def record_success(conn: Connection, staff_id: str, password_hash: str | None) -> None:
    values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None}
    if password_hash is not None:
        values["password_hash"] = password_hash
    conn.execute(update(staff).where(staff.c.id == staff_id).values(**values))


def everyone(conn: Connection) -> list[StaffMember]:
    return [_row(r) for r in conn.execute(select(staff).order_by(staff.c.username))]


def disable(conn: Connection, staff_id: str, now: int) -> None:
    conn.execute(update(staff).where(staff.c.id == staff_id).values(disabled_at=now))
