"""Backups that keep erasures erased.

``backup``: a consistent copy of the database, then of the key store (in that order: a key
destroyed between the two copies leaves a customer the journal erases again), and a manifest.
The master key file is not copied: it is kept apart (docs/operations.md), and KEKs retired by
rotation are destroyed after the backup retention, so that old copies of the key store become
unreadable on their own.

``restore``: the copies put back (the servers stopped), then every erasure in the journal that
the restored database does not show is done again — before any server serves: ``outstanding``
is what ``consentry serve`` checks at start, refusing to serve while it finds any.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consentry.domain.clock import rfc3339_micros
from consentry.domain.consent import CustomerStatus
from consentry.domain.errors import CustomerErased
from consentry.services import customers
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store import backups as store
from consentry.store import customers as customer_store
from consentry.store import evidence as evidence_store
from consentry.store.backups import BackupError

MANIFEST = "manifest.json"
DATABASE, KEYSTORE = "database", "keystore"

__all__ = ["BackupError", "backup", "outstanding", "replay", "restore"]


def _name(url: str, part: str) -> str:
    return f"{part}.sqlite" if store.is_sqlite(url) else f"{part}.dump"


def backup(hub: Hub, folder: Path, *, keystore_only: bool = False) -> dict[str, Any]:
    folder.mkdir(mode=0o700, parents=True, exist_ok=False)
    settings = hub.settings
    now = hub.now_micros()
    hub.sequencer.integrate_all()
    with hub.db.read() as conn:
        latest = evidence_store.latest_head(conn)
    files = {}
    if not keystore_only:
        files[DATABASE] = _name(settings.resolved_database_url, DATABASE)
        store.copy_out(settings.resolved_database_url, folder / files[DATABASE])
    files[KEYSTORE] = _name(settings.resolved_keystore_url, KEYSTORE)
    store.copy_out(settings.resolved_keystore_url, folder / files[KEYSTORE])
    manifest = {
        "taken_at": rfc3339_micros(now),
        "taken_at_micros": now,
        "files": files,
        "log_size": latest.size if latest else 0,
        "root_hash": latest.root_hash if latest else None,
        "erasures_journaled": sum(1 for _ in hub.erasure_journal.entries()),
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_manifest(folder: Path) -> dict[str, Any]:
    """The manifest is written last: a backup that failed midway has none, and is refused."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{folder} holds no backup manifest ({MANIFEST})")
    return manifest


def restore(settings: Settings, folder: Path) -> dict[str, Any]:
    """Put the copies back (no hub may be open on them: the servers are stopped). The caller
    then opens a hub and runs ``replay``."""
    manifest = read_manifest(folder)
    files = manifest["files"]
    targets = {DATABASE: settings.resolved_database_url, KEYSTORE: settings.resolved_keystore_url}
    for part, name in files.items():
        if part not in targets or name != _name(targets[part], part):
            raise BackupError(f"the backup's {part} ({name}) is not for this engine")
        if not (folder / name).is_file():
            raise BackupError(f"the backup lacks {name}")
    for part, name in files.items():
        store.copy_in(folder / name, targets[part])
    return manifest


@dataclass(frozen=True)
class Outstanding:
    customer_id: str
    erased_at: int


def outstanding(hub: Hub) -> list[Outstanding]:
    """The journal's erasures the database does not show: customers still there and not
    erased, or erased but whose data key the key store holds again."""
    entries = {e.customer_id: e.erased_at for e in hub.erasure_journal.entries()}
    found = []
    ids = list(entries)
    for start in range(0, len(ids), 1000):
        part = ids[start : start + 1000]
        with hub.db.read() as conn:
            states = customer_store.states(conn, part)
        keys = hub.vault.keystore.get_many(part)
        for customer_id in part:
            state = states.get(customer_id)
            back = state is not None and state[0] != CustomerStatus.ERASED.value
            if back or customer_id in keys:
                found.append(Outstanding(customer_id, entries[customer_id]))
    return found


def replay(hub: Hub) -> int:
    """Erase again every customer the journal erased whom the database shows; how many."""
    done = 0
    for item in outstanding(hub):
        try:
            customers.erase(hub, item.customer_id, journal=False)
        except CustomerErased:
            hub.vault.shred([item.customer_id])  # erased in the database, its key back
        done += 1
    return done
