"""Mutation vectors for inclusion and consistency proofs, in the style of transparency-dev/merkle
(proof/verify_test.go: corruptInclusionProof, corruptConsistencyProof): every way of bending an
honest proof that a verifier must refuse."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

EMPTY_ROOT = hashlib.sha256(b"").digest()
WRONG = hashlib.sha256(b"WrongLeaf").digest()
RANDOM = hashlib.sha256(b"a random root").digest()


@dataclass(frozen=True)
class Inclusion:
    index: int
    size: int
    leaf: bytes
    path: tuple[bytes, ...]
    root: bytes


@dataclass(frozen=True)
class Consistency:
    old: int
    new: int
    old_root: bytes
    new_root: bytes
    path: tuple[bytes, ...]


def _flipped(path: tuple[bytes, ...]) -> Iterator[tuple[str, tuple[bytes, ...]]]:
    for i, node in enumerate(path):
        for bit in (0, 7, 255):  # the first, a middle and the last bit
            bent = bytearray(node)
            bent[bit // 8] ^= 1 << (bit % 8)
            yield f"bit {bit} of node {i} flipped", (*path[:i], bytes(bent), *path[i + 1 :])


def _reshaped(path: tuple[bytes, ...], root: bytes) -> Iterator[tuple[str, tuple[bytes, ...]]]:
    for i in range(len(path)):
        yield f"node {i} removed", path[:i] + path[i + 1 :]
    for garbage in (EMPTY_ROOT, root, bytes(32)):
        yield "garbage after", (*path, garbage)
        yield "garbage before", (garbage, *path)
        for i in range(1, len(path)):
            yield f"node inserted at {i}", (*path[:i], garbage, *path[i:])
    if len(path) > 1:
        yield "nodes swapped", (path[1], path[0], *path[2:])


def inclusion_mutations(honest: Inclusion) -> Iterator[tuple[str, Inclusion]]:
    h = honest
    for index in {h.index - 1, h.index + 1, h.index ^ 2}:
        if index >= 0:
            yield f"leaf index {index}", Inclusion(index, h.size, h.leaf, h.path, h.root)
    for size in {h.size * 2, h.size // 2}:
        if size != h.size:
            yield f"tree size {size}", Inclusion(h.index, size, h.leaf, h.path, h.root)
    yield "wrong leaf", Inclusion(h.index, h.size, WRONG, h.path, h.root)
    yield "empty root", Inclusion(h.index, h.size, h.leaf, h.path, EMPTY_ROOT)
    yield "random root", Inclusion(h.index, h.size, h.leaf, h.path, RANDOM)
    for name, path in [*_flipped(h.path), *_reshaped(h.path, h.root)]:
        yield name, Inclusion(h.index, h.size, h.leaf, path, h.root)


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def _subproof(m: int, lo: int, hi: int, whole: bool) -> list[tuple[int, int]]:
    """RFC 6962 SUBPROOF as the ranges of leaves whose subtree roots the proof holds."""
    if m == hi - lo:
        return [] if whole else [(lo, hi)]
    k = _split(hi - lo)
    if m <= k:
        return [*_subproof(m, lo, lo + k, whole), (lo + k, hi)]
    return [*_subproof(m - k, lo + k, hi, False), (lo, lo + k)]


def _expression(lo: int, hi: int, known: dict[tuple[int, int], str]) -> object:
    if (lo, hi) in known:
        return known[(lo, hi)]
    if hi - lo == 1:
        return f"leaf {lo}"  # not in the proof: the verifier never computes it
    k = _split(hi - lo)
    return (_expression(lo, lo + k, known), _expression(lo + k, hi, known))


def _shape(old: int, new: int) -> tuple[object, object]:
    """What a verifier computes both roots from, the proof's nodes named by their place in it."""
    known = {r: f"node {i}" for i, r in enumerate(_subproof(old, 0, new, True))}
    return _expression(0, old, known), _expression(0, new, {**known, (0, old): "old root"})


def _tells_apart(old: int, new: int, other_old: int, other_new: int) -> bool:
    """Whether a proof for (old, new) can be told from one for the other sizes at all: when both
    combine the same nodes the same way (1 -> 3 and 1 -> 4: the second node may be a leaf or a
    subtree), no verifier can, and transparency-dev's vectors skip those pairs too."""
    if not 0 < other_old <= other_new:
        return True
    return _shape(old, new) != _shape(other_old, other_new)


def consistency_mutations(honest: Consistency) -> Iterator[tuple[str, Consistency]]:
    c = honest
    if c.old == 0:
        # Every tree extends the empty one: only a root that is not the empty tree's can be
        # wrong (no proof is asked for; test_merkle refuses a non-empty one).
        yield "wrong old root", Consistency(0, c.new, RANDOM, c.new_root, c.path)
        return
    for old in {c.old - 1, c.old + 1, c.old * 2, c.old // 2}:
        if old not in (c.old, 0) and _tells_apart(c.old, c.new, old, c.new):
            yield f"old size {old}", Consistency(old, c.new, c.old_root, c.new_root, c.path)
    for new in {c.new - 1, c.new + 1, c.new * 2, c.new // 2}:
        if new != c.new and _tells_apart(c.old, c.new, c.old, new):
            yield f"new size {new}", Consistency(c.old, new, c.old_root, c.new_root, c.path)
    if c.old_root != c.new_root:
        yield "roots swapped", Consistency(c.old, c.new, c.new_root, c.old_root, c.path)
    for bad in (EMPTY_ROOT, RANDOM):
        yield "wrong old root", Consistency(c.old, c.new, bad, c.new_root, c.path)
        yield "wrong new root", Consistency(c.old, c.new, c.old_root, bad, c.path)
    if c.old == c.new:
        return  # two checkpoints of one size need no proof (test_merkle refuses one given)
    for name, path in [*_flipped(c.path), *_reshaped(c.path, c.new_root)]:
        yield name, Consistency(c.old, c.new, c.old_root, c.new_root, path)
