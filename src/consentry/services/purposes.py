"""Purposes and their notices: create, publish a new version, read."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Connection

from consentry.domain.clock import rfc3339_micros
from consentry.domain.errors import Conflict, InvalidInput, NotFound, UnknownPurpose
from consentry.domain.purposes import (
    Notice,
    Purpose,
    default_section,
    notice_hash,
    validate_channels,
    validate_confirmations,
    validate_purpose_id,
)
from consentry.schemas.purposes import PurposeCreate, PurposeUpdate
from consentry.services.hub import Hub
from consentry.store import purposes as store
from consentry.store.pagination import check_limit, decode_cursor, encode_cursor


def purpose_json(p: Purpose) -> dict[str, Any]:
    return {
        "id": p.id,
        "version": p.version,
        "title": p.title,
        "description": p.description,
        "notice_hash": p.notice_hash,
        "legal_basis": p.legal_basis.value,
        "channels": list(p.channels),
        "sensitive": p.sensitive,
        "gpc": p.gpc,
        "section": p.section.value,
        "confirmations": dict(p.confirmations),
        "confirm_days": p.confirm_days,
        "expires_after_days": p.expires_after_days,
        "stale_before_version": p.stale_before_version,
        "created_at": rfc3339_micros(p.created_at),
        "updated_at": rfc3339_micros(p.updated_at),
    }


def create(hub: Hub, conn: Connection, body: PurposeCreate) -> dict[str, Any]:
    validate_purpose_id(body.id)
    channels = validate_channels(body.channels)
    if store.get(conn, body.id) is not None:
        raise Conflict(f"a purpose {body.id!r} exists already; PUT it to publish a new version")
    now = hub.now_micros()
    purpose = Purpose(
        id=body.id,
        version=1,
        title=body.title,
        description=body.description,
        notice_hash=notice_hash(body.title, body.description),
        legal_basis=body.legal_basis,
        channels=channels,
        sensitive=body.sensitive,
        expires_after_days=body.expires_after_days,
        stale_before_version=1,
        created_at=now,
        updated_at=now,
        gpc=body.gpc,
        section=body.section or default_section(body.legal_basis, channels, body.gpc),
        confirmations=validate_confirmations(body.confirmations, channels),
        confirm_days=body.confirm_days,
    )
    store.insert(conn, purpose)
    store.insert_notice(
        conn,
        Notice(purpose.id, 1, purpose.title, purpose.description, purpose.notice_hash, False, now),
    )
    return purpose_json(purpose)


def update(hub: Hub, conn: Connection, purpose_id: str, body: PurposeUpdate) -> dict[str, Any]:
    current = store.get(conn, purpose_id, for_update=True)
    if current is None:
        raise NotFound(f"no purpose {purpose_id!r}")
    title = body.title if body.title is not None else current.title
    description = body.description if body.description is not None else current.description
    new_notice = (title, description) != (current.title, current.description)
    if body.reconsent and not new_notice:
        raise InvalidInput(
            "reconsent needs a changed title or description: customers re-consent to a new notice",
            [{"loc": ["reconsent"], "msg": "no notice change"}],
        )
    fields = body.model_dump(exclude_unset=True, exclude={"reconsent", "title", "description"})
    # Left out: unchanged. Sent as null: only an expiry can be taken away.
    nulls = [n for n, value in fields.items() if value is None and n != "expires_after_days"]
    if nulls:
        raise InvalidInput(
            f"{nulls[0]} cannot be null: leave it out to keep it as it is",
            [{"loc": ["body", name], "msg": "not null"} for name in nulls],
        )
    if "channels" in fields:
        fields["channels"] = validate_channels(fields["channels"])
    if "confirmations" in fields or "channels" in fields:
        fields["confirmations"] = validate_confirmations(
            fields.get("confirmations", dict(current.confirmations)),
            fields.get("channels", current.channels),
        )
    now = hub.now_micros()
    version = current.version + 1 if new_notice else current.version
    updated = dataclasses.replace(
        current,
        **fields,
        title=title,
        description=description,
        version=version,
        notice_hash=notice_hash(title, description),
        stale_before_version=version if body.reconsent else current.stale_before_version,
        updated_at=now,
    )
    store.replace(conn, updated)
    if new_notice:
        store.insert_notice(
            conn,
            Notice(
                purpose_id, version, title, description, updated.notice_hash, body.reconsent, now
            ),
        )
    return purpose_json(updated)


def get(hub: Hub, purpose_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        purpose = store.get(conn, purpose_id)
        if purpose is None:
            raise NotFound(f"no purpose {purpose_id!r}")
        notices = store.notice_versions(conn, purpose_id)
    return {
        **purpose_json(purpose),
        "notices": [
            {
                "version": n.version,
                "title": n.title,
                "description": n.description,
                "notice_hash": n.notice_hash,
                "reconsent": n.reconsent,
                "published_at": rfc3339_micros(n.published_at),
            }
            for n in notices
        ],
    }


def list_page(hub: Hub, after: str | None, limit: int) -> dict[str, Any]:
    check_limit(limit)
    cursor = decode_cursor(after)
    with hub.db.read() as conn:
        rows = store.page(conn, str(cursor) if cursor is not None else None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "purposes": [purpose_json(p) for p in rows],
        "next": encode_cursor(rows[-1].id) if more else None,
    }


def catalogue(hub: Hub, conn: Connection) -> list[Purpose]:
    """Every purpose, from the process's cache while the catalogue's fingerprint is the one it
    was filled at (services/reads does the same with the fingerprint read beside a customer)."""
    now = store.fingerprint(conn)
    cached = hub.purpose_catalogue
    if cached is not None and cached[0] == now:
        return cached[1]
    found = store.all_purposes(conn)
    hub.purpose_catalogue = (now, found)
    return found


def current(hub: Hub, conn: Connection, purpose_id: str, version: int, updated_at: int) -> Purpose:
    """The purpose as stored now. Purposes change rarely and are read on every consent change:
    the hub keeps the last version it read and uses it only while the database still shows the
    same version and update time, so a change made by any process is seen by the next write."""
    known = hub.purposes.get(purpose_id)
    if known is not None and (known.version, known.updated_at) == (version, updated_at):
        return known
    purpose = require(conn, purpose_id)
    hub.purposes[purpose_id] = purpose
    return purpose


def require(conn: Connection, purpose_id: str) -> Purpose:
    purpose = store.get(conn, purpose_id)
    if purpose is None:
        raise UnknownPurpose(
            f"unknown purpose {purpose_id!r}", [{"loc": ["purpose"], "msg": "unknown purpose"}]
        )
    return purpose


def notice_hash_of(conn: Connection, purpose: Purpose, version: int) -> str:
    if version == purpose.version:
        return purpose.notice_hash
    for notice in store.notice_versions(conn, purpose.id):
        if notice.version == version:
            return notice.notice_hash
    raise InvalidInput(
        f"purpose {purpose.id!r} has no notice version {version}",
        [{"loc": ["notice_version"], "msg": "no such version"}],
    )
