"""Purposes and their notice versions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, select, text, update

from consentry.domain.purposes import LegalBasis, Notice, Purpose, Section
from consentry.store.tables import notices, purposes


def purpose_from_row(row: Any) -> Purpose:
    return Purpose(
        id=row.id,
        version=row.version,
        title=row.title,
        description=row.description,
        notice_hash=row.notice_hash,
        legal_basis=LegalBasis(row.legal_basis),
        channels=tuple(row.channels),
        sensitive=bool(row.sensitive),
        expires_after_days=row.expires_after_days,
        stale_before_version=row.stale_before_version,
        created_at=row.created_at,
        updated_at=row.updated_at,
        gpc=bool(row.gpc),
        section=Section(row.section),
        **_confirmation(row.confirmation),
    )


def _confirmation(value: Any) -> dict[str, Any]:
    """The double opt-in fields of a stored ``confirmation`` (JSON, maybe as text). Most
    purposes have none: read on every check, that case costs no parsing."""
    if value is None or value == "null":  # SQL NULL, or JSON null as text
        return {}
    found = orjson.loads(value) if isinstance(value, str | bytes) else value
    if not found:  # JSON null, already parsed by the driver
        return {}
    return {
        "confirmations": tuple(sorted(found.get("channels", {}).items())),
        "confirm_days": int(found.get("days", 7)),
    }


# A purpose's columns in this order, as the raw reads (store/checks, store/quick) select them.
COLUMNS = (
    "id, version, title, description, notice_hash, legal_basis, channels, sensitive, "
    "expires_after_days, stale_before_version, created_at, updated_at, gpc, section, confirmation"
)


def purpose_of(values: Sequence[Any], at: int = 0) -> Purpose:
    """A purpose from a raw row's ``COLUMNS``, starting at ``at`` (``channels`` may come as
    JSON text from a raw DBAPI cursor)."""
    pid, version, title, description, notice, basis, channels, sensitive = values[at : at + 8]
    expires, stale, created, updated, gpc, section, confirmation = values[at + 8 : at + 15]
    return Purpose(
        id=pid,
        version=version,
        title=title,
        description=description,
        notice_hash=notice,
        legal_basis=LegalBasis(basis),
        channels=tuple(orjson.loads(channels) if isinstance(channels, str | bytes) else channels),
        sensitive=bool(sensitive),
        expires_after_days=expires,
        stale_before_version=stale,
        created_at=created,
        updated_at=updated,
        gpc=bool(gpc),
        section=Section(section),
        **_confirmation(confirmation),
    )


def _values(p: Purpose) -> dict[str, Any]:
    return {
        "id": p.id,
        "version": p.version,
        "title": p.title,
        "description": p.description,
        "notice_hash": p.notice_hash,
        "legal_basis": p.legal_basis.value,
        "channels": list(p.channels),
        "sensitive": p.sensitive,
        "expires_after_days": p.expires_after_days,
        "stale_before_version": p.stale_before_version,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "gpc": p.gpc,
        "section": p.section.value,
        "confirmation": (
            {"channels": dict(p.confirmations), "days": p.confirm_days} if p.confirmations else None
        ),
    }


def insert(conn: Connection, purpose: Purpose) -> None:
    conn.execute(purposes.insert().values(**_values(purpose)))


def replace(conn: Connection, purpose: Purpose) -> None:
    values = _values(purpose)
    del values["id"]
    conn.execute(update(purposes).where(purposes.c.id == purpose.id).values(**values))


_GET = select(purposes).where(purposes.c.id == bindparam("purpose_id"))
_GET_FOR_UPDATE = _GET.with_for_update()


def get(conn: Connection, purpose_id: str, *, for_update: bool = False) -> Purpose | None:
    row = conn.execute(_GET_FOR_UPDATE if for_update else _GET, {"purpose_id": purpose_id}).first()
    return purpose_from_row(row) if row else None


# Which purposes exist, in which versions: changes whenever a purpose is created or changed
# (store/quick reads the same with a customer's states).
FINGERPRINT = "(SELECT count(*) || ':' || max(updated_at) || ':' || sum(version) FROM purposes)"


def fingerprint(conn: Connection) -> str:
    return str(conn.execute(text(f"SELECT {FINGERPRINT}")).scalar())


def all_purposes(conn: Connection) -> list[Purpose]:
    return [purpose_from_row(r) for r in conn.execute(select(purposes).order_by(purposes.c.id))]


def page(conn: Connection, after: str | None, limit: int) -> list[Purpose]:
    query = select(purposes).order_by(purposes.c.id).limit(limit)
    if after is not None:
        query = query.where(purposes.c.id > after)
    return [purpose_from_row(r) for r in conn.execute(query)]


def insert_notice(conn: Connection, notice: Notice) -> None:
    conn.execute(
        notices.insert().values(
            purpose_id=notice.purpose,
            version=notice.version,
            title=notice.title,
            description=notice.description,
            notice_hash=notice.notice_hash,
            reconsent=notice.reconsent,
            published_at=notice.published_at,
        )
    )


def notice_versions(conn: Connection, purpose_id: str) -> list[Notice]:
    rows = conn.execute(
        select(notices).where(notices.c.purpose_id == purpose_id).order_by(notices.c.version)
    )
    return [
        Notice(
            r.purpose_id,
            r.version,
            r.title,
            r.description,
            r.notice_hash,
            bool(r.reconsent),
            r.published_at,
        )
        for r in rows
    ]
