"""Telling every process at once that a customer's data key was destroyed.

Each process caches unwrapped data keys (vault.CACHE_SECONDS). When one process erases a
customer, the others must drop their copy now, not when it expires: the erasing process
announces the ids, and every vault drains the announcements before each key look-up.

- A key store on PostgreSQL (processes on several hosts): NOTIFY on a channel, heard by a
  LISTEN connection in each process; while that connection is down, the whole cache is dropped
  at each look-up, so nothing is missed.
- A key store in an SQLite file (processes on one host): an append-only file beside it, whose
  size each look-up compares (one stat()); new lines name the erased ids.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import psycopg
from sqlalchemy import Engine, text

from consentry.store.files import FILE

CHANNEL = "consentry_erased"
# NOTIFY payloads are limited to 8,000 bytes: ids (some 30 characters) go in batches.
PER_NOTICE = 200

# Drained among the ids when announcements may have been missed: forget every key.
EVERYTHING = "*"


class ErasedSignal(Protocol):
    def announce(self, customer_ids: Sequence[str]) -> None: ...

    def drain(self) -> list[str]:
        """Ids announced since the last call (with EVERYTHING among them when some may have
        been missed)."""
        ...

    def close(self) -> None: ...


class FileSignal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._offset = self._size()  # earlier erasures: no key of theirs can be cached yet

    def _size(self) -> int:
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            return 0

    def announce(self, customer_ids: Sequence[str]) -> None:
        if not customer_ids:
            return
        data = "".join(f"{cid}\n" for cid in customer_ids).encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE)
        try:
            os.write(fd, data)  # one write with O_APPEND: lines never interleave
        finally:
            os.close(fd)

    def drain(self) -> list[str]:
        size = self._size()
        with self._lock:
            if size == self._offset:
                return []
            if size < self._offset:  # replaced: read it all again (forgetting more is safe)
                self._offset = 0
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read(size - self._offset)
            complete = chunk.rfind(b"\n") + 1  # a line still being written waits
            self._offset += complete
            return chunk[:complete].decode().split()

    def close(self) -> None:
        pass


class PostgresSignal:
    """``url`` for the LISTEN connection each process keeps; ``engine`` (the key store's pool)
    to announce: NOTIFY needs no connection of its own."""

    def __init__(self, url: str, engine: Engine) -> None:
        self.url = url
        self.engine = engine
        self._lock = threading.Lock()
        self._heard: list[str] = []
        self._listening = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="erased-signal", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    with self._lock:
                        self._listening = True
                        self._heard = [EVERYTHING]  # what was said while not listening
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=1.0):
                            with self._lock:
                                self._heard.extend(notice.payload.split())
            except psycopg.Error:
                with self._lock:
                    self._listening = False
                self._stop.wait(1.0)

    def announce(self, customer_ids: Sequence[str]) -> None:
        if not customer_ids:
            return
        with self.engine.begin() as conn:
            for start in range(0, len(customer_ids), PER_NOTICE):
                payload = " ".join(customer_ids[start : start + PER_NOTICE])
                conn.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})

    def drain(self) -> list[str]:
        with self._lock:
            if not self._listening:
                return [EVERYTHING]
            heard, self._heard = self._heard, []
            return heard

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=3)
