"""Master-key rotation on a schedule: the server makes a new KEK and re-wraps every data key
under it when the current one is CONSENTRY_MASTER_KEY_ROTATE_DAYS old, and destroys the KEKs
retired longer ago than CONSENTRY_BACKUP_RETENTION_DAYS. One process at a time does it."""

from __future__ import annotations

import time

from consentry.services.hub import Hub

ROTATION_LOCK = 0x6B657973  # "keys"


def rotate_if_due(hub: Hub) -> tuple[int, list[str]] | None:
    """(keys re-wrapped, KEKs destroyed) if this process rotated; None if nothing was due or
    another process is at it. Retired KEKs past the retention are destroyed either way."""
    settings = hub.settings
    with hub.db.try_exclusive("keys", ROTATION_LOCK) as mine:
        if not mine:
            return None
        vault = hub.vault
        due = (
            settings.master_key_rotate_days
            and vault.master.current_age_days(time.time()) >= settings.master_key_rotate_days
        )
        if due:
            return vault.rotate(retention_days=settings.backup_retention_days)
        destroyed = vault.destroy_expired_keks(settings.backup_retention_days)
        return (0, destroyed) if destroyed else None
