"""This process's copy of the tree's complete subtrees, kept in step with the stored log.

Proofs are served from memory (about 64 bytes a leaf); the stored leaf hashes stay the truth,
and any process can rebuild its copy from them.
"""

from __future__ import annotations

import threading

from consentry.domain.merkle import MerkleTree
from consentry.store import evidence
from consentry.store.database import Database

_READ = 50_000


class TreeCache:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.tree = MerkleTree()
        self._lock = threading.Lock()

    def at_least(self, size: int) -> MerkleTree:
        """The tree with at least ``size`` leaves read in (fewer if fewer are sequenced)."""
        if self.tree.size >= size:
            return self.tree
        with self._lock:
            while self.tree.size < size:
                with self.db.read() as conn:
                    hashes = evidence.leaf_hashes(conn, self.tree.size, _READ)
                if not hashes:
                    break
                self.tree.extend(hashes)
        return self.tree
