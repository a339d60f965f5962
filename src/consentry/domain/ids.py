"""Opaque ids with a type prefix (``cus_…``, ``app_…``, ``rec_…``).

The body is a ULID: 48 bits of milliseconds then 80 random bits, in Crockford base32. Ids made
later sort later, so new rows land at the right edge of the id indexes instead of on a random
page of a large table (which costs a page read and a page write per insert); 80 random bits
keep them unguessable.
"""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str) -> str:
    number = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(secrets.token_bytes(10), "big")
    chars = []
    for _ in range(26):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(reversed(chars))}"
