"""The master key file: the index secret (blind indexes, API-key pepper) and the key-encryption
keys (KEKs), one of them current.

    {"format": 1, "index_secret": "<base64>", "keks": {"kek_…": "<base64>"}, "current": "kek_…",
     "made": {"kek_…": <POSIX s>}, "retired": {"kek_…": <POSIX s>}}

A KEK no data key uses any more is *retired* (kept, with the time) by rotation, and destroyed
once the backup retention has passed: until then a restored key store's backup still opens,
after it no backup of the key store older than the rotation can be read by anyone.

The file is created with mode 0600 on first start. It is rewritten only by rotation, atomically
(a new file renamed over the old), so a crash leaves either the old or the new file.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from consentry.vault.crypto import KEY_BYTES, new_key
from consentry.vault.errors import VaultError

FORMAT = 1


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str, what: str, path: Path) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (ValueError, TypeError) as exc:
        raise VaultError(f"master key file {path}: {what} is not base64") from exc
    if len(raw) != KEY_BYTES:
        raise VaultError(f"master key file {path}: {what} must be {KEY_BYTES} bytes")
    return raw


def new_kek_id() -> str:
    return "kek_" + secrets.token_hex(8)


@dataclass
class MasterKeys:
    path: Path
    index_secret: bytes
    keks: dict[str, bytes]
    current: str
    mtime_ns: int = 0
    made: dict[str, int] = field(default_factory=dict)  # KEK -> when it was made (POSIX s)
    retired: dict[str, int] = field(default_factory=dict)  # KEK -> when it stopped being used

    @classmethod
    def create(cls, path: Path) -> MasterKeys:
        kek_id = new_kek_id()
        keys = cls(path, os.urandom(KEY_BYTES), {kek_id: new_key()}, kek_id)
        keys.made[kek_id] = int(time.time())
        keys.save(exclusive=True)
        return keys

    def add_current(self) -> str:
        kek_id = new_kek_id()
        self.keks[kek_id] = new_key()
        self.made[kek_id] = int(time.time())
        self.current = kek_id
        return kek_id

    def current_age_days(self, now: float) -> float:
        """How old the current KEK is (a file from before ages were kept: as old as the file)."""
        made = self.made.get(self.current, self.mtime_ns // 1_000_000_000)
        return (now - made) / 86_400

    def retire(self, kek_ids: list[str], now: int) -> None:
        for kek_id in kek_ids:
            self.retired.setdefault(kek_id, now)

    def destroy_expired(self, retention_days: int, now: float) -> list[str]:
        """Drop the KEKs retired longer ago than the backup retention; which."""
        gone = [
            k
            for k, at in self.retired.items()
            if k != self.current and now - at > retention_days * 86_400
        ]
        for kek_id in gone:
            self.keks.pop(kek_id, None)
            self.retired.pop(kek_id, None)
            self.made.pop(kek_id, None)
        return gone

    @classmethod
    def load(cls, path: Path) -> MasterKeys:
        try:
            raw = path.read_bytes()
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError as exc:
            raise VaultError(f"master key file {path} does not exist") from exc
        except OSError as exc:
            raise VaultError(f"master key file {path} cannot be read: {exc.strerror}") from exc
        try:
            doc = orjson.loads(raw)
            if doc.get("format") != FORMAT:
                raise VaultError(f"master key file {path}: unknown format {doc.get('format')!r}")
            keks = {str(k): _unb64(v, f"key {k}", path) for k, v in dict(doc["keks"]).items()}
            current = str(doc["current"])
            index_secret = _unb64(doc["index_secret"], "index_secret", path)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            raise VaultError(
                f"master key file {path} is damaged ({exc.__class__.__name__}: {exc})"
            ) from exc
        if current not in keks:
            raise VaultError(f"master key file {path}: current key {current!r} is not in it")
        made = {str(k): int(v) for k, v in dict(doc.get("made", {})).items()}
        retired = {str(k): int(v) for k, v in dict(doc.get("retired", {})).items()}
        return cls(path, index_secret, keks, current, mtime, made, retired)

    def save(self, *, exclusive: bool = False) -> None:
        doc = {
            "format": FORMAT,
            "index_secret": _b64(self.index_secret),
            "keks": {k: _b64(v) for k, v in self.keks.items()},
            "current": self.current,
            "made": self.made,
            "retired": self.retired,
        }
        body = orjson.dumps(doc, option=orjson.OPT_INDENT_2)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(self.path.name + ".new")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        fd = os.open(temporary, flags, 0o600)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            # First start: never overwrite a key file another process created meanwhile.
            try:
                os.link(temporary, self.path)
            except FileExistsError as exc:
                raise VaultError(f"master key file {self.path} appeared meanwhile") from exc
            finally:
                os.unlink(temporary)
        else:
            os.replace(temporary, self.path)
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self.mtime_ns = self.path.stat().st_mtime_ns

    def changed_on_disk(self) -> bool:
        try:
            return self.path.stat().st_mtime_ns != self.mtime_ns
        except OSError:
            return False
