"""Opening the vault against this database: the right master key, the right key store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import exists, select

from consentry.store.database import Database
from consentry.store.tables import customers, vault_meta
from consentry.vault.vault import Vault

_FINGERPRINT = "master_key_fingerprint"


def open_vault(db: Database, key_file: Path, keystore_url: str) -> Vault:
    with db.read() as conn:
        recorded = conn.execute(
            select(vault_meta.c.value).where(vault_meta.c.name == _FINGERPRINT)
        ).scalar()
        customers_exist = bool(conn.execute(select(exists().select_from(customers))).scalar())
    vault = Vault.open(key_file, keystore_url, data_exists=recorded is not None or customers_exist)
    try:
        vault.verify_against(recorded, customers_exist)
        if recorded is None:
            with db.write() as conn:
                if (
                    conn.execute(
                        select(vault_meta.c.value).where(vault_meta.c.name == _FINGERPRINT)
                    ).scalar()
                    is None
                ):
                    conn.execute(
                        vault_meta.insert().values(name=_FINGERPRINT, value=vault.fingerprint())
                    )
            with db.read() as conn:
                recorded = conn.execute(
                    select(vault_meta.c.value).where(vault_meta.c.name == _FINGERPRINT)
                ).scalar()
            vault.verify_against(recorded, customers_exist)
    except Exception:
        vault.close()
        raise
    return vault
