"""Time as the domain sees it: aware UTC datetimes, RFC 3339 on the wire."""

from __future__ import annotations

import time
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
    # isoformat writes the six fraction digits only when there are microseconds, as wanted,
    # and in a third of strftime's time.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def rfc3339_micros(micros: int) -> str:
    # Straight from the integer (no datetime): feeds and webhooks format one per change.
    seconds, rest = divmod(micros, 1_000_000)
    whole = _rfc3339_second(seconds)
    return f"{whole}.{rest:06d}Z" if rest else whole + "Z"


@lru_cache(maxsize=4096)
def _rfc3339_second(seconds: int) -> str:
    # Not strftime's %Y: glibc writes year 1 as "1", which is not RFC 3339 (four digits).
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
        f"T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    )


def parse_rfc3339(text: str) -> datetime:
    return datetime.fromisoformat(text)
