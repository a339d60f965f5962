"""Whether the background work keeps up, for the landing page (the metrics say by how much)."""

from __future__ import annotations

from consentry.services.hub import Hub
from consentry.store.backlog import backlog

# The sequencer runs every 0.2 s: leaves waiting longer than this mean it is stuck.
BEHIND_SECONDS = 60


def evidence_keeps_up(hub: Hub) -> bool:
    with hub.db.read() as conn:
        now = backlog(conn)
    if now.pending_leaves == 0 or now.head_signed_at is None:
        return True
    return (hub.now_micros() - now.head_signed_at) / 1e6 < BEHIND_SECONDS
