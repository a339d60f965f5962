"""The sequencer: integrates acknowledged records into the Merkle tree and signs a head.

Why this design (after Trillian): a consent write only appends its leaf — with its leaf hash,
computed before the answer — in its own transaction, so writers never wait for the tree. One
sequencer at a time (a PostgreSQL advisory lock; on SQLite the write lock) takes the pending
leaves in write order, gives them dense sequence numbers (moving them from ``pending_leaves``
to ``log_leaves``, insert-only tables: the record itself is never rewritten), extends the
tree's right frontier (O(log n) hashes per leaf, never re-reading the tree) and signs a new
tree head, all in one transaction. A crash loses nothing: leaves not yet sequenced stay
pending and the next run integrates them; a run that did not commit left no sequence numbers
behind.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection

from consentry.domain.clock import rfc3339, to_micros, utcnow
from consentry.domain.heads import HeadSigner, TreeHead, head_payload
from consentry.domain.merkle import CompactRange
from consentry.store import evidence, outbox
from consentry.store.database import Database

SEQUENCER_LOCK = 0x73657175  # "sequ"
BATCH = 20_000


class Sequencer:
    def __init__(
        self, db: Database, signer: HeadSigner, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.db = db
        self.signer = signer
        self.clock = clock

    def integrate(self, batch: int = BATCH, *, wait: bool = True) -> TreeHead | None:
        """Sequence up to ``batch`` pending leaves; the new head, or None if none were pending
        (or, without ``wait``, if another sequencer is at work: it integrates them)."""
        return self._integrate(batch, wait)[0]

    def _integrate(self, batch: int, wait: bool) -> tuple[TreeHead | None, bool]:
        """The new head, and whether leaves may be left (the batch was full)."""
        with self.db.write() as conn:
            if not self.db.advisory_lock(conn, SEQUENCER_LOCK, wait=wait):
                return None, False
            state = evidence.frontier(conn)
            leaves = evidence.pending(conn, batch)
            if not leaves and state is not None:
                return None, False
            tree = CompactRange(*state) if state else CompactRange()
            integrated = []
            for pk, leaf_hash in leaves:
                integrated.append((tree.size, pk, leaf_hash))
                tree.append(leaf_hash)
            if integrated:
                evidence.integrate_leaves(conn, integrated)
            return self.commit_head(conn, tree, existed=state is not None), len(leaves) == batch

    def commit_head(self, conn: Connection, tree: CompactRange, *, existed: bool) -> TreeHead:
        """Store the frontier and a newly signed head for it (inside the caller's transaction)."""
        evidence.put_frontier(conn, tree.size, tree.hashes, existed=existed)
        now = self.clock()
        timestamp = rfc3339(now)
        root = tree.root().hex()
        head = TreeHead(
            size=tree.size,
            root_hash=root,
            timestamp=timestamp,
            signature=self.signer.sign(head_payload(tree.size, root, timestamp)),
            key_id=self.signer.key_id,
        )
        evidence.insert_head(conn, head, to_micros(now))
        return head

    def integrate_all(self, *, wait: bool = True) -> TreeHead | None:
        """Integrate every leaf committed before the call (``wait``), or leave the work to a
        sequencer already at it (not ``wait``: for background loops, which run again soon).
        A batch that was not full was the last: no further empty transaction to find out."""
        last = None
        more = True
        while more:
            head, more = self._integrate(BATCH, wait)
            last = head or last
        return last


OUTBOX_LOCK = 0x6F757462  # "outb"


class OutboxSequencer:
    """Gives outbox changes their feed positions, in the order they became visible.

    Why not the primary key: on PostgreSQL a transaction that took a smaller key can commit
    after one with a larger key, and a reader that had already passed the larger one would skip
    it forever. Positions are handed out only to committed changes, by one sequencer at a time
    (an advisory lock), so a cursor never skips one. The same design as the evidence log's."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def integrate(self, batch: int = BATCH, *, wait: bool = True) -> int:
        """Give positions to up to ``batch`` changes; how many (0 also when, without ``wait``,
        another process is at it)."""
        with self.db.write() as conn:
            if not self.db.advisory_lock(conn, OUTBOX_LOCK, wait=wait):
                return 0
            pks = outbox.pending(conn, batch)
            if not pks:
                return 0
            start = outbox.last_position(conn) + 1
            outbox.assign_positions(conn, [(pk, start + i) for i, pk in enumerate(pks)])
            return len(pks)

    def integrate_all(self, *, wait: bool = True) -> int:
        """As Sequencer.integrate_all."""
        total = 0
        while True:
            n = self.integrate(wait=wait)
            total += n
            if n < BATCH:
                return total

    def integrate_if_pending(self) -> int:
        """integrate_all, after a read that finds something to do, leaving the work to a
        process already at it: for callers that look often (the webhook worker each round),
        most of whose looks find nothing."""
        with self.db.read() as conn:
            if not outbox.pending(conn, 1):
                return 0
        return self.integrate_all(wait=False)
