"""What the database remembers of the vault: the fingerprint of the master key it was made with."""

from __future__ import annotations

from sqlalchemy import Connection, exists, select

from consentry.domain.consent import CustomerStatus
from consentry.store.tables import customers, vault_meta

_FINGERPRINT = "master_key_fingerprint"


def recorded_fingerprint(conn: Connection) -> str | None:
    value = conn.execute(
        select(vault_meta.c.value).where(vault_meta.c.name == _FINGERPRINT)
    ).scalar()
    return None if value is None else str(value)


def any_customers(conn: Connection) -> bool:
    """Whether any customer not erased exists (an erased one has no data key left to need)."""
    living = exists().where(customers.c.status != CustomerStatus.ERASED.value)
    return bool(conn.execute(select(living)).scalar())


def record_fingerprint(conn: Connection, fingerprint: str) -> None:
    """The master key's fingerprint, unless one is recorded already (another process's)."""
    if recorded_fingerprint(conn) is None:
        conn.execute(vault_meta.insert().values(name=_FINGERPRINT, value=fingerprint))
