"""Who looked at my data: every read of a customer's personal data by an app is recorded.

Entries are buffered and written together every fraction of a second (by the server's background
loop, and when the hub closes), so that a look-up does not wait for a disk write of its own. A
crash can lose the entries of that last fraction of a second; consent evidence is never written
this way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from consentry.domain.access import ALL_PURPOSES, Caller
from consentry.store import access_log as store
from consentry.store.database import Database


class AccessLog:
    def __init__(self, db: Database, now_micros: Callable[[], int]) -> None:
        self.db = db
        self.now_micros = now_micros
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, customer_id: str, caller: Caller, action: str, fields: list[str]) -> None:
        purposes = sorted(caller.purposes) if ALL_PURPOSES not in caller.purposes else ["*"]
        entry = {
            "customer_id": customer_id,
            "app_id": caller.app_id,
            "app_name": caller.name,
            "purposes": purposes,
            "action": action,
            "fields": fields,
            "at": self.now_micros(),
        }
        with self._lock:
            self._pending.append(entry)

    def forget(self, customer_id: str) -> None:
        """An erased customer's entries are not written after the erasure."""
        with self._lock:
            self._pending = [e for e in self._pending if e["customer_id"] != customer_id]

    def flush(self) -> int:
        with self._lock:
            pending, self._pending = self._pending, []
        if pending:
            try:
                with self.db.write() as conn:
                    store.insert_many(conn, pending)
            except Exception:
                with self._lock:
                    self._pending = pending + self._pending
                raise
        return len(pending)
