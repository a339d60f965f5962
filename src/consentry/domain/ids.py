"""Opaque ids with a type prefix (``cus_…``, ``app_…``, ``rec_…``).

The body is 128 bits, ULID-style: 48 bits of milliseconds then 80 random bits, written in
Crockford's base32 alphabet (lower case). Ids made later sort later, so new rows land at the
right edge of the id indexes instead of on a random page of a large table (a page read and a
page write per insert); 80 random bits keep them unguessable.
"""

from __future__ import annotations

import base64
import secrets
import time

# RFC 4648 base32 digits mapped, in value order, onto Crockford's: the text sorts as the bits.
_TO_CROCKFORD = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghjkmnpqrstvwxyz"
)


def new_id(prefix: str) -> str:
    raw = (time.time_ns() // 1_000_000).to_bytes(6, "big") + secrets.token_bytes(10)
    body = base64.b32encode(raw).decode("ascii")[:26].translate(_TO_CROCKFORD)
    return f"{prefix}_{body}"
