"""The erasure journal: one line a customer erasure (the pseudonymous id and the time), appended
and flushed to disk before the customer's data key is destroyed. It lives outside the database
and the key store (CONSENTRY_ERASURE_JOURNAL; put it on storage a restore does not roll back),
so that restoring an older backup cannot bring an erased customer back: the restore replays
every erasure the journal holds that the restored database has not seen."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from consentry.store.files import FILE


@dataclass(frozen=True)
class JournalEntry:
    customer_id: str
    erased_at: int  # µs


class ErasureJournal:
    """``path`` a file, or a directory (for several hosts on one shared volume): each host then
    appends to ``<host>.journal`` in it, and every ``*.journal`` there is read."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _own_file(self) -> Path:
        if self.path.is_dir():
            return self.path / f"{socket.gethostname()}.journal"
        return self.path

    def files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(self.path.glob("*.journal"))
        return [self.path] if self.path.exists() else []

    def record(self, customer_id: str, erased_at: int) -> None:
        """Append one erasure, durably (the line is on disk when this returns)."""
        own = self._own_file()
        own.parent.mkdir(parents=True, exist_ok=True)
        line = orjson.dumps({"customer": customer_id, "at": erased_at}) + b"\n"
        fd = os.open(own, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> Iterator[JournalEntry]:
        """Every erasure recorded (each file's oldest first). A last line cut short by a crash
        (its erasure never began: the key is destroyed only after the line is on disk) is
        skipped."""
        for path in self.files():
            with open(path, "rb") as journal:
                for line in journal:
                    try:
                        entry = orjson.loads(line)
                        yield JournalEntry(str(entry["customer"]), int(entry["at"]))
                    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                        continue
