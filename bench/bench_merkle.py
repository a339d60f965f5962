"""Inclusion proofs in process: Consentry's tree at 1,000,000 leaves beside pymerkle 7.0.0 at
100,000 leaves (pip install 'consentry[bench]')."""

from __future__ import annotations

import hashlib
import random
import sys
import time

from _common import summary_ms, write
from consentry.domain.merkle import MerkleTree, verify_inclusion


def ours(size: int, samples: int) -> dict[str, float]:
    tree = MerkleTree()
    start = time.perf_counter()
    tree.extend(hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size))
    build = time.perf_counter() - start
    root = tree.root()
    rng = random.Random(1)
    times = []
    for _ in range(samples):
        index = rng.randrange(size)
        t0 = time.perf_counter()
        proof = tree.inclusion_proof(index, size)
        times.append(time.perf_counter() - t0)
        assert verify_inclusion(index, size, tree.leaf(index), proof, root)
    return {"leaves": size, "build_s": round(build, 2), **summary_ms(times)}


def pymerkle_figures(size: int, samples: int) -> dict[str, float] | None:
    try:
        from pymerkle import InmemoryTree
    except ImportError:
        return None
    tree = InmemoryTree(algorithm="sha256")
    for i in range(size):
        tree.append_entry(i.to_bytes(8, "big"))
    rng = random.Random(1)
    times = []
    for _ in range(samples):
        index = rng.randrange(1, size + 1)
        t0 = time.perf_counter()
        tree.prove_inclusion(index, size)
        times.append(time.perf_counter() - t0)
    return {"leaves": size, **summary_ms(times)}


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    write(
        "merkle_inclusion",
        {
            "consentry": ours(size, 2000),
            "pymerkle_7_0_0": pymerkle_figures(100_000, 500),
        },
    )
