"""What a dishonest operator (or an intruder with the database and the signing key) can do:
rewrite a record in the database, rebuild the tree over the altered leaf and sign a fresh head
with the log's own key, so that the hub itself serves a self-consistent, validly signed lie."""

from __future__ import annotations

import orjson
from sqlalchemy import delete, select, update

from consentry.domain.canonical import canonical_json
from consentry.domain.merkle import CompactRange, leaf_hash
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import (
    cosignatures,
    evidence_records,
    log_leaves,
    tree_heads,
    tree_state,
)


def rewrite_record(settings: Settings, seq: int) -> str:
    """Turn leaf ``seq``'s action around (a withdrawal becomes a grant) and re-sign the log
    over it, behind the hub's back (stop the server first); the altered record's id."""
    hub = Hub.open(settings, migrate_schema=False)
    try:
        with hub.db.write() as conn:
            pk = conn.execute(
                select(log_leaves.c.record_pk).where(log_leaves.c.seq == seq)
            ).scalar_one()
            row = conn.execute(select(evidence_records).where(evidence_records.c.pk == pk)).one()
            leaf = orjson.loads(row.leaf)
            leaf["action"] = "grant" if leaf["action"] == "withdraw" else "withdraw"
            forged = canonical_json(leaf)
            digest = leaf_hash(forged)
            conn.execute(
                update(evidence_records)
                .where(evidence_records.c.pk == pk)
                .values(leaf=forged, leaf_hash=digest, action=leaf["action"])
            )
            conn.execute(update(log_leaves).where(log_leaves.c.seq == seq).values(leaf_hash=digest))
            hashes = [
                bytes(h)
                for (h,) in conn.execute(select(log_leaves.c.leaf_hash).order_by(log_leaves.c.seq))
            ]
            # The old heads and the witnesses' cosignatures of them would give the lie away.
            conn.execute(delete(tree_heads))
            conn.execute(delete(cosignatures))
            conn.execute(delete(tree_state))
            hub.sequencer.commit_head(conn, CompactRange.from_leaf_hashes(hashes), existed=False)
        return str(row.id)
    finally:
        hub.close()
