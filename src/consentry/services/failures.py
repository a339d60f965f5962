"""What a database failure means to whoever asked: a passing conflict (the same transaction run
again will most likely succeed) or an outage (503: the database cannot be reached or is locked)."""

from __future__ import annotations

import psycopg
from sqlalchemy.exc import OperationalError

from consentry.store.database import transient_conflict

__all__ = ["database_unavailable", "transient_conflict"]


def database_unavailable(exc: BaseException) -> bool:
    if transient_conflict(exc):  # a deadlock is no outage
        return False
    if isinstance(exc, psycopg.OperationalError):
        return True
    if isinstance(exc, OperationalError):
        return bool(
            exc.connection_invalidated
            or isinstance(exc.orig, psycopg.OperationalError)
            or "database is locked" in str(exc.orig)
        )
    return False
