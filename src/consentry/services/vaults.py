"""Opening the vault against this database: the right master key, the right key store."""

from __future__ import annotations

from pathlib import Path

from consentry.store import vault_meta
from consentry.store.database import Database
from consentry.vault.vault import Vault


def open_vault(db: Database, key_file: Path, keystore_url: str) -> Vault:
    with db.read() as conn:
        recorded = vault_meta.recorded_fingerprint(conn)
        customers_exist = vault_meta.any_customers(conn)
    vault = Vault.open(key_file, keystore_url, data_exists=recorded is not None or customers_exist)
    try:
        vault.verify_against(recorded, customers_exist)
        if recorded is None:
            with db.write() as conn:
                vault_meta.record_fingerprint(conn, vault.fingerprint())
            with db.read() as conn:
                recorded = vault_meta.recorded_fingerprint(conn)
            vault.verify_against(recorded, customers_exist)
    except Exception:
        vault.close()
        raise
    return vault
