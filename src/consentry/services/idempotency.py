"""Idempotent writes: the same Idempotency-Key and body within 24 h returns the first answer.

The stored answer is written in the same transaction as the change, so a retry after a crash
either finds both or neither.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from consentry.domain.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidInput
from consentry.services.hub import Hub
from consentry.store import idempotency

WINDOW_MICROS = 24 * 3600 * 1_000_000


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    replayed: bool = False


def request_hash(hub: Hub, method: str, path: str, body: bytes) -> str:
    """Keyed (a blind index): the body may hold personal data."""
    return hub.vault.blind("idempotent-request", f"{method} {path}\n" + body.decode())


# The vault's field name for a stored answer.
ANSWER = "idempotent-answer"


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
    customer_id: str | Callable[[Any], str] | None = None,
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
            if not idempotency.claim(conn, app_id, key):  # another process has it now
                raise IdempotencyInProgress(_IN_PROGRESS)
            seen = idempotency.find(conn, app_id, key)
            if seen is not None and seen.created_at >= now - WINDOW_MICROS:
                if seen.request_hash != fingerprint:
                    raise IdempotencyKeyReused(
                        "this Idempotency-Key was used with another request; "
                        "use a new key for a new request"
                    )
                body = bytes(seen.body)
                if seen.customer_id is not None:
                    body = hub.vault.unseal(seen.customer_id, ANSWER, body).encode()
                return Answer(seen.status_code, body, replayed=True)
            if seen is not None:
                idempotency.forget_before(conn, now - WINDOW_MICROS)
        result = use_case(conn)
        body = orjson.dumps(result)
        if key is not None:
            subject = customer_id(result) if callable(customer_id) else customer_id
            kept = hub.vault.seal(subject, ANSWER, body.decode()) if subject else body
            idempotency.save(conn, app_id, key, fingerprint, status, kept, now, subject)
        return Answer(status, body)

    if key is None:
        return await _run(hub, transaction, key)
    mine = (app_id, key)
    with _in_flight_lock:
        if mine in _in_flight:
            raise IdempotencyInProgress(_IN_PROGRESS)
        _in_flight.add(mine)
    try:
        return await _run(hub, transaction, key)
    finally:
        with _in_flight_lock:
            _in_flight.discard(mine)


async def _run(hub: Hub, transaction: Callable[[Connection], Answer], key: str | None) -> Answer:
    for attempt in range(_ATTEMPTS):
        try:
            return await asyncio.wrap_future(hub.db.submit_write(transaction))
        except IntegrityError:
            if key is None or attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


# The keys this process is answering now: a second request with one of them is told to retry
# (409) rather than queued behind the first. Across processes, PostgreSQL's transaction-level
# advisory lock on the key does the same (store/idempotency.claim); SQLite's writers take
# turns, so a second request there waits and then replays the first answer.
_in_flight: set[tuple[str, str]] = set()
_in_flight_lock = threading.Lock()
_IN_PROGRESS = "a request with this Idempotency-Key is still being processed: retry shortly"
