"""Cursor pagination over a unique, ordered key (opaque to clients)."""

from __future__ import annotations

import base64

from consentry.domain.errors import InvalidInput

MAX_LIMIT = 1000


def encode_cursor(key: str | int) -> str:
    return base64.urlsafe_b64encode(f"{type(key).__name__}:{key}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | int | None:
    if cursor is None:
        return None
    try:
        padded = (cursor + "=" * (-len(cursor) % 4)).encode()
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
        kind, _, value = raw.partition(":")
        if kind not in ("int", "str"):
            raise ValueError(kind)
        return int(value) if kind == "int" else value
    except ValueError as exc:
        raise InvalidInput(
            "the cursor is not one this server gave out",
            [{"loc": ["query", "after"], "msg": "unknown cursor"}],
        ) from exc


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(
            f"limit must be between 1 and {MAX_LIMIT}",
            [{"loc": ["query", "limit"], "msg": f"1 to {MAX_LIMIT}"}],
        )
    return limit
