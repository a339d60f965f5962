"""Time as the domain sees it: aware UTC datetimes, RFC 3339 on the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_micros(moment: datetime) -> int:
    """Microseconds since the epoch: how instants are stored, the same on every engine."""
    delta = moment.astimezone(UTC) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    seconds, rest = divmod(micros, 1_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest)


# Cached: a batch stamps thousands of records with the same instant, and strftime is slow.
@lru_cache(maxsize=1024)
def rfc3339(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_micros(micros: int) -> str:
    return rfc3339(from_micros(micros))


def parse_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text)
