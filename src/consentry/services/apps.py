"""Apps: create, list, revoke, and authenticate a key."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from consentry.domain.access import ALL_PURPOSES, Caller, RegisteredApp, Scope, validate_scopes
from consentry.domain.clock import rfc3339_micros
from consentry.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from consentry.domain.ids import new_id
from consentry.domain.purposes import validate_purpose_id
from consentry.services.hub import Hub
from consentry.store import apps
from consentry.store import purposes as purpose_store
from consentry.store.pagination import check_limit, decode_cursor, encode_cursor

KEY_PREFIX = "csk_"


def hash_key(hub: Hub, key: str) -> str:
    """HMAC-SHA-256 of the key under a server pepper from the master key file. Keys are 256
    random bits (the admin key at least 32 characters), so a slow KDF would add no safety, only
    latency on every request (the check must stay in single-digit milliseconds); the pepper
    means a copy of the database alone cannot even test a guess."""
    return hub.vault.key_hash(key)


def app_json(app: RegisteredApp) -> dict[str, Any]:
    return {
        "id": app.id,
        "name": app.name,
        "scopes": list(app.scopes),
        "purposes": list(app.purposes),
        "created_at": rfc3339_micros(app.created_at),
        "revoked_at": rfc3339_micros(app.revoked_at) if app.revoked_at else None,
    }


def create(
    hub: Hub, conn: Connection, name: str, scopes: list[str], purposes: list[str]
) -> dict[str, Any]:
    checked_scopes = validate_scopes(scopes)
    for purpose in purposes:
        if purpose == ALL_PURPOSES:
            continue
        validate_purpose_id(purpose)
        if purpose_store.get(conn, purpose) is None:
            raise InvalidInput(
                f"unknown purpose {purpose!r}: create it first",
                [{"loc": ["purposes"], "msg": f"unknown purpose {purpose!r}"}],
            )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    app = RegisteredApp(
        new_id("app"), name, checked_scopes, tuple(dict.fromkeys(purposes)), hub.now_micros(), None
    )
    apps.insert(conn, app, hash_key(hub, key))
    return {**app_json(app), "key": key}


def list_page(hub: Hub, after: str | None, limit: int) -> dict[str, Any]:
    check_limit(limit)
    cursor = decode_cursor(after)
    with hub.db.read() as conn:
        rows = apps.page(conn, str(cursor) if cursor is not None else None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "apps": [app_json(a) for a in rows],
        "next": encode_cursor(rows[-1].id) if more else None,
    }


def revoke(hub: Hub, conn: Connection, app_id: str) -> dict[str, Any]:
    app = apps.get(conn, app_id)
    if app is None:
        raise NotFound(f"no app {app_id!r}")
    admin_key = hub.settings.admin_key
    holder = apps.by_key_hash(conn, hash_key(hub, admin_key)) if admin_key else None
    if holder is not None and holder.id == app.id:
        # Revoked, it would lock every admin out until a restart brought it back.
        raise Conflict(
            f"{app_id} holds CONSENTRY_ADMIN_KEY: change that setting to replace the admin key"
        )
    apps.revoke(conn, app_id, hub.now_micros())
    revoked = apps.get(conn, app_id)
    assert revoked is not None
    return app_json(revoked)


async def authenticate(
    hub: Hub, key: str | None, app_of: Callable[[str], Awaitable[RegisteredApp | None]]
) -> Caller:
    """The caller holding ``key``; ``app_of`` reads the app by its key's hash (api/check_batch:
    on PostgreSQL together with other requests' reads, without holding up the event loop)."""
    if not key:
        raise Unauthenticated("send the app's key as 'Authorization: Bearer <key>'")
    return caller_of(await app_of(hash_key(hub, key)))


def caller_of(app: RegisteredApp | None) -> Caller:
    if app is None or app.revoked_at is not None:
        raise Unauthenticated("this key is unknown or was revoked")
    return Caller(app.id, app.name, frozenset(app.scopes), frozenset(app.purposes))


def ensure_admin(hub: Hub, key: str) -> str:
    """The app named ``admin`` with scope ``admin`` answers to ``key`` (CONSENTRY_ADMIN_KEY).

    Several server processes start at once and race here; the loser of the insert finds the
    winner's row on its second attempt."""
    for attempt in range(2):
        try:
            with hub.db.write() as conn:
                holder = apps.by_key_hash(conn, hash_key(hub, key))
                if holder is not None and holder.revoked_at is None:
                    if holder.name == "admin" and Scope.ADMIN.value in holder.scopes:
                        return holder.id
                    raise Conflict(
                        f"CONSENTRY_ADMIN_KEY is already the key of app {holder.id} "
                        f"({holder.name!r}); choose another admin key"
                    )
                admin = apps.by_name(conn, "admin")
                if admin is not None and Scope.ADMIN.value in admin.scopes:
                    apps.set_key_hash(conn, admin.id, hash_key(hub, key))
                    return admin.id
                app = RegisteredApp(
                    new_id("app"),
                    "admin",
                    (Scope.ADMIN.value,),
                    (ALL_PURPOSES,),
                    hub.now_micros(),
                    None,
                )
                apps.insert(conn, app, hash_key(hub, key))
                return app.id
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")
