"""The vault as the services use it: seal and open a customer's fields, blind indexes, data
keys made, cached, rotated and destroyed."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from consentry.vault import crypto
from consentry.vault.erased import EVERYTHING
from consentry.vault.errors import KeyGone, VaultError
from consentry.vault.keystore import KeyStore
from consentry.vault.master import MasterKeys

# Unwrapped data keys kept in memory, bounded and short-lived; an erasure in any process drops
# the key here at once (vault/erased.py).
CACHE_KEYS = 100_000
CACHE_SECONDS = 300.0
_CHECK_MESSAGE = b"consentry master key check v1"


class Vault:
    def __init__(self, master: MasterKeys, keystore: KeyStore) -> None:
        self.master = master
        self.keystore = keystore
        self._index_key = crypto.derive(master.index_secret, "consentry/blind-index/v1")
        self._pepper = crypto.derive(master.index_secret, "consentry/api-key-pepper/v1")
        self._keks = {k: AESGCM(v) for k, v in master.keks.items()}
        self._cache: OrderedDict[str, tuple[AESGCM, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._erased = keystore.erased_signal()

    @classmethod
    def open(cls, key_file: Path, keystore_url: str, *, data_exists: bool) -> Vault:
        """The master key file is created only for a database that holds no personal data yet;
        for one that does, a missing file is an error, never a fresh key."""
        if key_file.exists():
            master = MasterKeys.load(key_file)
        elif data_exists:
            raise VaultError(
                f"master key file {key_file} does not exist, but the database holds encrypted "
                "personal data: restore the key file or point CONSENTRY_MASTER_KEY_FILE at it"
            )
        else:
            master = MasterKeys.create(key_file)
        return cls(master, KeyStore(keystore_url))

    def close(self) -> None:
        self._erased.close()
        self.keystore.dispose()

    # -- the key check: is this the master key the data was written with? -----------------

    def fingerprint(self) -> str:
        return crypto.mac(self._index_key, _CHECK_MESSAGE)

    def verify_against(self, recorded: str | None, customers_exist: bool) -> None:
        if recorded is not None and recorded != self.fingerprint():
            raise VaultError(
                f"master key file {self.master.path} is not the key this database was written "
                "with: restore the right file or point CONSENTRY_MASTER_KEY_FILE at it"
            )
        if customers_exist and self.keystore.count() == 0:
            raise VaultError(
                "the key store is empty but the database holds customers: "
                "restore it or point CONSENTRY_KEYSTORE_URL at it"
            )
        unknown = set(self.keystore.kek_ids()) - set(self.master.keks)
        if unknown:
            self._reload()
            unknown -= set(self.master.keks)
        if unknown:
            raise VaultError(
                f"the key store holds data keys wrapped by {', '.join(sorted(unknown))}, which "
                f"master key file {self.master.path} does not have"
            )

    # -- look-ups without plaintext --------------------------------------------------------

    def blind(self, kind: str, value: str) -> str:
        return crypto.mac(self._index_key, kind.encode() + b"\x00" + value.encode())

    def key_hash(self, api_key: str) -> str:
        """API keys are long random strings: one HMAC under a server pepper is enough (a slow
        KDF would cost every check milliseconds), and the database alone cannot test guesses."""
        return crypto.mac(self._pepper, api_key.encode())

    # -- data keys ---------------------------------------------------------------------------

    def new_keys(self, customer_ids: Sequence[str], now: int) -> None:
        """Make, wrap and store data keys; stored (committed) before this returns."""
        self._reload_if_rotated()
        kek_id = self.master.current
        kek = self._keks[kek_id]
        rows = []
        made = []
        for cid in customer_ids:
            raw = crypto.new_key()
            rows.append((cid, kek_id, crypto.seal(kek, raw, _wrap_aad(cid, kek_id)), now))
            made.append((cid, AESGCM(raw)))
        self.keystore.put_many(rows)
        self._remember_many(made)

    def _forget_erased(self) -> None:
        """Drop the keys other processes destroyed since the last look-up."""
        erased = self._erased.drain()
        if not erased:
            return
        with self._lock:
            if EVERYTHING in erased:
                self._cache.clear()
                return
            for cid in erased:
                self._cache.pop(cid, None)

    def key(self, customer_id: str) -> AESGCM:
        self._forget_erased()
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(customer_id)
            if cached is not None and cached[1] > now:
                self._cache.move_to_end(customer_id)
                return cached[0]
        stored = self.keystore.get(customer_id)
        if stored is None:
            raise KeyGone(customer_id)
        key = self._unwrap(customer_id, *stored)
        self._remember(customer_id, key)
        return key

    def keys(self, customer_ids: Sequence[str]) -> dict[str, AESGCM]:
        """The data keys that exist among ``customer_ids`` (one key-store read for the rest)."""
        self._forget_erased()
        found: dict[str, AESGCM] = {}
        missing = []
        now = time.monotonic()
        with self._lock:
            for cid in customer_ids:
                cached = self._cache.get(cid)
                if cached is not None and cached[1] > now:
                    found[cid] = cached[0]
                else:
                    missing.append(cid)
        unwrapped = [
            (cid, self._unwrap(cid, kek_id, wrapped))
            for cid, (kek_id, wrapped) in self.keystore.get_many(missing).items()
        ]
        found.update(unwrapped)
        self._remember_many(unwrapped)
        return found

    def shred(self, customer_ids: Sequence[str]) -> int:
        """Destroy data keys: what they sealed can never be opened again, anywhere."""
        with self._lock:
            for cid in customer_ids:
                self._cache.pop(cid, None)
        deleted = self.keystore.delete(customer_ids)
        self._erased.announce(list(customer_ids))
        return deleted

    def _unwrap(self, customer_id: str, kek_id: str, wrapped: bytes) -> AESGCM:
        kek = self._keks.get(kek_id)
        if kek is None:
            self._reload()
            kek = self._keks.get(kek_id)
        if kek is None:
            raise VaultError(f"data key of {customer_id} is wrapped by unknown key {kek_id}")
        try:
            return AESGCM(crypto.unseal(kek, wrapped, _wrap_aad(customer_id, kek_id)))
        except crypto.Unsealable as exc:
            raise VaultError(f"data key of {customer_id} does not unwrap with {kek_id}") from exc

    def _remember(self, customer_id: str, key: AESGCM) -> None:
        self._remember_many([(customer_id, key)])

    def _remember_many(self, keys: Sequence[tuple[str, AESGCM]]) -> None:
        # One lock and one clock reading for an import chunk's thousands of new keys.
        until = time.monotonic() + CACHE_SECONDS
        cache = self._cache
        with self._lock:
            for customer_id, key in keys:
                cache[customer_id] = (key, until)
                cache.move_to_end(customer_id)
            while len(cache) > CACHE_KEYS:
                cache.popitem(last=False)

    def _reload_if_rotated(self) -> None:
        # A rotation in another process writes a new current KEK: wrap new keys with it, so
        # that the old one can be retired.
        if self.master.changed_on_disk():
            self._reload()

    def _reload(self) -> None:
        master = MasterKeys.load(self.master.path)
        if master.index_secret != self.master.index_secret:
            raise VaultError(f"master key file {master.path} was replaced by another key")
        self.master = master
        self._keks = {k: AESGCM(v) for k, v in master.keks.items()}

    # -- sealing fields --------------------------------------------------------------------

    def seal(self, customer_id: str, field: str, value: str) -> bytes:
        return crypto.seal(self.key(customer_id), value.encode(), _aad(customer_id, field))

    def seal_with(self, key: AESGCM, customer_id: str, field: str, value: str) -> bytes:
        return crypto.seal(key, value.encode(), _aad(customer_id, field))

    def seal_json(
        self, customer_id: str, field: str, value: Any, key: AESGCM | None = None
    ) -> bytes:
        key = key or self.key(customer_id)
        return crypto.seal(key, orjson.dumps(value), _aad(customer_id, field))

    def unseal(self, customer_id: str, field: str, sealed: bytes, key: AESGCM | None = None) -> str:
        return self._unseal(customer_id, field, sealed, key).decode()

    def unseal_json(
        self, customer_id: str, field: str, sealed: bytes, key: AESGCM | None = None
    ) -> Any:
        return orjson.loads(self._unseal(customer_id, field, sealed, key))

    def _unseal(self, customer_id: str, field: str, sealed: bytes, key: AESGCM | None) -> bytes:
        key = key or self.key(customer_id)
        try:
            return crypto.unseal(key, bytes(sealed), _aad(customer_id, field))
        except crypto.Unsealable as exc:
            raise VaultError(f"{field} of {customer_id} does not open with its data key") from exc

    # -- rotation ----------------------------------------------------------------------------

    def rotate(
        self,
        *,
        batch: int = 5_000,
        progress: Callable[[int, int], None] | None = None,
        retention_days: int | None = None,
    ) -> tuple[int, list[str]]:
        """Re-wrap every data key under a new current KEK; retire the old KEKs at the end, and
        destroy those retired longer ago than ``retention_days`` (None: destroy them at once).

        Resumable: a KEK made by an interrupted rotation is still current, and the keys not yet
        re-wrapped are found again. Returns (keys re-wrapped, KEKs destroyed)."""
        self._reload()
        pending = sum(n for k, n in self.keystore.kek_ids().items() if k != self.master.current)
        if pending == 0:
            self.master.add_current()
            self.master.save()
            self._reload()
            pending = sum(self.keystore.kek_ids().values())
        done = self._rewrap_all(batch, pending, progress)
        # Servers look at the key file before they wrap a new key; one that had not yet
        # seen the new file may have wrapped one under the old KEK meanwhile: a last pass.
        time.sleep(1.0)
        done += self._rewrap_all(batch, 0, None)
        in_use = set(self.keystore.kek_ids())
        unused = [k for k in self.master.keks if k != self.master.current and k not in in_use]
        now = time.time()
        self.master.retire(unused, int(now))
        destroyed = self.master.destroy_expired(
            -1 if retention_days is None else retention_days, now
        )
        self.master.save()
        self._reload()
        return done, destroyed

    def destroy_expired_keks(self, retention_days: int) -> list[str]:
        """Destroy the KEKs retired longer ago than the backup retention."""
        self._reload()
        destroyed = self.master.destroy_expired(retention_days, time.time())
        if destroyed:
            self.master.save()
            self._reload()
        return destroyed

    def _rewrap_all(
        self, batch: int, total: int, progress: Callable[[int, int], None] | None
    ) -> int:
        current = self.master.current
        kek = self._keks[current]
        done = 0
        for rows in self.keystore.not_under(current, batch):
            rewrapped = []
            for cid, old, wrapped in rows:
                raw = self._unwrap_raw(cid, old, wrapped)
                rewrapped.append(
                    (cid, old, current, crypto.seal(kek, raw, _wrap_aad(cid, current)))
                )
            with self.keystore.engine.begin() as conn:
                self.keystore.rewrap(conn, rewrapped)
            done += len(rows)
            if progress:
                progress(done, max(total, done))
        return done

    def _unwrap_raw(self, customer_id: str, kek_id: str, wrapped: bytes) -> bytes:
        kek = self._keks.get(kek_id)
        if kek is None:
            raise VaultError(f"data key of {customer_id} is wrapped by unknown key {kek_id}")
        return crypto.unseal(kek, wrapped, _wrap_aad(customer_id, kek_id))


def _aad(customer_id: str, field: str) -> bytes:
    return customer_id.encode() + b"\x00" + field.encode()


def _wrap_aad(customer_id: str, kek_id: str) -> bytes:
    return b"data-key\x00" + customer_id.encode() + b"\x00" + kek_id.encode()


__all__ = ["KeyGone", "Vault", "VaultError"]
