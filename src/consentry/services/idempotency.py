"""Idempotent writes: the same Idempotency-Key and body within 24 h returns the first answer.

The stored answer is written in the same transaction as the change, so a retry after a crash
either finds both or neither.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from consentry.domain.errors import IdempotencyConflict, InvalidInput
from consentry.services.hub import Hub
from consentry.store import idempotency

WINDOW_MICROS = 24 * 3600 * 1_000_000


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    replayed: bool = False


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


# A request that loses a race for its Idempotency-Key (IntegrityError) runs again and then
# finds the winner's answer; without a key, an IntegrityError is a real conflict.
_ATTEMPTS = 3


async def run_write(
    hub: Hub,
    app_id: str,
    key: str | None,
    fingerprint: str,
    status: int,
    use_case: Callable[[Connection], object],
) -> Answer:
    """Run ``use_case`` in one write transaction on a writer thread (the event loop waits,
    it does not block); with a key, remember the answer or replay it."""
    if key is not None and not 1 <= len(key) <= 255:
        raise InvalidInput(
            "Idempotency-Key must have 1 to 255 characters",
            [{"loc": ["header", "Idempotency-Key"], "msg": "bad length"}],
        )

    def transaction(conn: Connection) -> Answer:
        now = hub.now_micros()
        if key is not None:
            seen = idempotency.find(conn, app_id, key)
            if seen is not None and seen.created_at >= now - WINDOW_MICROS:
                if seen.request_hash != fingerprint:
                    raise IdempotencyConflict(
                        "this Idempotency-Key was used with another request; "
                        "use a new key for a new request"
                    )
                return Answer(seen.status_code, bytes(seen.body), replayed=True)
            if seen is not None:
                idempotency.forget_before(conn, now - WINDOW_MICROS)
        body = orjson.dumps(use_case(conn))
        if key is not None:
            idempotency.save(conn, app_id, key, fingerprint, status, body, now)
        return Answer(status, body)

    for attempt in range(_ATTEMPTS):
        try:
            return await asyncio.wrap_future(hub.db.submit_write(transaction))
        except IntegrityError:
            if key is None or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
