"""Opaque ids with a type prefix (``cus_…``, ``app_…``, ``rec_…``)."""

from __future__ import annotations

import secrets

# 16 random bytes in Crockford-free base32 keep ids short, URL-safe and unguessable.
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str) -> str:
    number = int.from_bytes(secrets.token_bytes(16), "big")
    chars = []
    for _ in range(26):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(chars)}"
