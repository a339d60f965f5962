"""The console's own rows: what staff did there, verifications of the evidence log, and the
few counts its pages show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from consentry.store.tables import (
    access_log,
    consent_state,
    console_actions,
    evidence_verifications,
)

v = evidence_verifications


def record_action(
    conn: Connection,
    *,
    at: int,
    staff_id: str,
    username: str,
    role: str,
    action: str,
    target: str,
    detail: dict[str, Any],
) -> None:
    conn.execute(
        insert(console_actions).values(
            at=at,
            staff_id=staff_id,
            username=username,
            role=role,
            action=action,
            target=target,
            detail=detail,
        )
    )


def actions(conn: Connection, before: int | None, limit: int) -> list[Any]:
    """The latest first, from before the row ``before`` (its pk) when paging."""
    query = select(console_actions).order_by(console_actions.c.pk.desc()).limit(limit)
    if before is not None:
        query = query.where(console_actions.c.pk < before)
    return list(conn.execute(query))


def granted_per_version(conn: Connection, purpose: str) -> dict[int, int]:
    """Customers whose grant of ``purpose`` was given under each notice version."""
    c = consent_state.c
    rows = conn.execute(
        select(c.purpose_version, func.count(func.distinct(c.customer_id)))
        .where(c.purpose == purpose, c.action == "grant")
        .group_by(c.purpose_version)
    )
    return {int(version): int(n) for version, n in rows}


def start_verification(conn: Connection, verification_id: str, at: int, by: str, size: int) -> None:
    conn.execute(
        insert(v).values(
            id=verification_id, started_at=at, started_by=by, size=size, checked=0, problems=[]
        )
    )


def verification_progress(conn: Connection, verification_id: str, checked: int) -> None:
    conn.execute(update(v).where(v.c.id == verification_id).values(checked=checked))


def finish_verification(
    conn: Connection, verification_id: str, at: int, checked: int, ok: bool, problems: list[str]
) -> None:
    conn.execute(
        update(v)
        .where(v.c.id == verification_id)
        .values(finished_at=at, checked=checked, ok=ok, problems=problems)
    )


def verification(conn: Connection, verification_id: str) -> Any:
    return conn.execute(select(v).where(v.c.id == verification_id)).first()


def latest_verifications(conn: Connection, limit: int) -> list[Any]:
    return list(conn.execute(select(v).order_by(v.c.started_at.desc()).limit(limit)))


def exports_by_app(conn: Connection, since: int) -> list[tuple[str, int]]:
    a = access_log.c
    rows = conn.execute(
        select(a.app_name, func.count())
        .where(a.at >= since, a.action == "export")
        .group_by(a.app_name)
        .order_by(func.count().desc())
    )
    return [(str(name), int(n)) for name, n in rows]
