"""The log's signed checkpoints (c2sp.org/tlog-checkpoint) as served, and the recent one that
change pages and webhook deliveries carry so that every app can watch the log."""

from __future__ import annotations

import time

from consentry.domain.notes import Checkpoint, Note, NoteKey, NoteSignature
from consentry.domain.witnesses import LastCosigned, WitnessStatus, witness_statuses
from consentry.services.hub import Hub
from consentry.store import cosignatures as cosignature_store
from consentry.store import evidence as evidence_store


def checkpoint_of(hub: Hub, size: int, root_hash: str) -> str:
    """The checkpoint of the tree of ``size`` leaves, signed (Ed25519 signatures are
    deterministic: the same text always gets the same signature), with its cosignatures."""
    origin = hub.settings.resolved_log_origin
    text = Checkpoint(origin, size, bytes.fromhex(root_hash)).text()
    with hub.db.read() as conn:
        rows = cosignature_store.of_checkpoint(conn, size, root_hash)
    cosigned = [NoteSignature(r.witness, bytes.fromhex(r.key_id), bytes(r.signature)) for r in rows]
    return Note(text, (hub.signer.sign_note(text, origin), *cosigned)).render()


# How old a checkpoint change pages and webhook deliveries carry may be: they need not cover
# what they carry (an app checks the log's consistency, not the page), so one is signed a second.
RECENT_CHECKPOINT_SECONDS = 1.0


def recent_checkpoint(hub: Hub) -> str:
    """The latest signed head as a checkpoint, made at most a second ago."""
    fresh = fresh_checkpoint(hub)
    if fresh is not None:
        return fresh
    with hub.db.read() as conn:
        latest = evidence_store.latest_head(conn)
    assert latest is not None  # the hub signs the empty head on start
    note = checkpoint_of(hub, latest.size, latest.root_hash)
    hub.recent_checkpoint = (note, time.monotonic())
    return note


def fresh_checkpoint(hub: Hub) -> str | None:
    """The recent checkpoint if it is fresh (no database read: safe on the event loop)."""
    kept = hub.recent_checkpoint
    if kept is not None and time.monotonic() - kept[1] < RECENT_CHECKPOINT_SECONDS:
        return kept[0]
    return None


def witness_status(hub: Hub) -> list[WitnessStatus]:
    """Each expected witness (CONSENTRY_WITNESSES): what it last cosigned, and whether it is
    falling behind the log."""
    expected = [NoteKey.parse(vkey).name for vkey in hub.settings.witnesses]
    with hub.db.read() as conn:
        rows = cosignature_store.latest_per_witness(conn)
        head = evidence_store.latest_head(conn)
    last = {
        name: LastCosigned(int(r.size), int(r.cosigned_at), int(r.received_at))
        for name, r in rows.items()
    }
    return witness_statuses(
        expected,
        last,
        head.size if head else 0,
        hub.now_micros(),
        hub.settings.witness_lag_seconds,
    )
