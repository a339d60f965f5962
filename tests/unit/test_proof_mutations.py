"""The verifiers cannot be fooled: over random trees, every honest inclusion and consistency
proof is accepted and every mutation of it (tests/proof_mutations.py) refused — by the hub's
verifier (domain/merkle.py, which the CLI and the witness use), by the client's LogWatch, and by
the standalone verifier the docs give auditors."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.client.watch import BadCheckpoint, ForkDetected, LogWatch, ProofNeeded
from consentry.domain.merkle import MerkleTree, leaf_hash, verify_consistency, verify_inclusion
from consentry.domain.notes import ED25519, Checkpoint, Note, NoteKey, sign
from tests import standalone_verifier
from tests.proof_mutations import (
    Consistency,
    Inclusion,
    consistency_mutations,
    inclusion_mutations,
)

DOCS = standalone_verifier.load()
ORIGIN = "hub.example/evidence"
LOG = Ed25519PrivateKey.generate()
LOG_KEY = NoteKey.of(ORIGIN, ED25519, LOG).vkey()


def _ours(p: Inclusion) -> bool:
    return verify_inclusion(p.index, p.size, p.leaf, list(p.path), p.root)


def _docs(p: Inclusion) -> bool:
    try:
        return bool(DOCS.root_from_path(p.index, p.size, p.leaf, list(p.path)) == p.root)
    except SystemExit:  # the docs' ``require``
        return False


def _merkle(c: Consistency) -> bool:
    return verify_consistency(c.old, c.new, c.old_root, c.new_root, list(c.path))


def _checkpoint(size: int, root: bytes) -> str:
    text = Checkpoint(ORIGIN, size, root).text()
    return Note(text, (sign(text, ORIGIN, LOG),)).render()


def _client(c: Consistency) -> bool:
    """The client saw the old checkpoint, then a page carries the new one."""
    watch = LogWatch(LOG_KEY)
    try:
        watch.examine(_checkpoint(c.old, c.old_root))
        shown = _checkpoint(c.new, c.new_root)
        needed = watch.examine(shown)
        if isinstance(needed, ProofNeeded):
            watch.settle(shown, list(c.path))
    except (ForkDetected, BadCheckpoint):
        return False
    return True


INCLUSION_VERIFIERS: list[Callable[[Inclusion], bool]] = [_ours, _docs]
CONSISTENCY_VERIFIERS: list[Callable[[Consistency], bool]] = [_merkle, _client]


def _tree(size: int, salt: int) -> MerkleTree:
    tree = MerkleTree()
    tree.extend(leaf_hash(f"{salt}:{i}".encode()) for i in range(size))
    return tree


def honest_inclusion(tree: MerkleTree, index: int, size: int) -> Inclusion:
    path = tuple(tree.inclusion_proof(index, size))
    return Inclusion(index, size, tree.leaf(index), path, tree.root(size))


def honest_consistency(tree: MerkleTree, old: int, new: int) -> Consistency:
    path = tuple(tree.consistency_proof(old, new))
    return Consistency(old, new, tree.root(old), tree.root(new), path)


@pytest.mark.parametrize("verify", INCLUSION_VERIFIERS, ids=["hub", "docs"])
@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), salt=st.integers(0, 2**16), data=st.data())
def test_inclusion_proofs_honest_accepted_mutants_refused(
    verify: Callable[[Inclusion], bool], size: int, salt: int, data: st.DataObject
) -> None:
    tree = _tree(size, salt)
    index = data.draw(st.integers(0, size - 1))
    honest = honest_inclusion(tree, index, size)
    assert verify(honest)
    for name, mutant in inclusion_mutations(honest):
        assert not verify(mutant), name


@pytest.mark.parametrize("verify", CONSISTENCY_VERIFIERS, ids=["hub", "client"])
@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), salt=st.integers(0, 2**16), data=st.data())
def test_consistency_proofs_honest_accepted_mutants_refused(
    verify: Callable[[Consistency], bool], size: int, salt: int, data: st.DataObject
) -> None:
    tree = _tree(size, salt)
    old = data.draw(st.integers(0, size))
    honest = honest_consistency(tree, old, size)
    assert verify(honest)
    for name, mutant in consistency_mutations(honest):
        assert not verify(mutant), name


@pytest.mark.parametrize("verify", CONSISTENCY_VERIFIERS, ids=["hub", "client"])
def test_every_small_tree_exhaustively(verify: Callable[[Consistency], bool]) -> None:
    for size in range(1, 18):
        tree = _tree(size, size)
        for old in range(size + 1):
            honest = honest_consistency(tree, old, size)
            assert verify(honest), (old, size)
            for name, mutant in consistency_mutations(honest):
                assert not verify(mutant), (old, size, name)


@pytest.mark.parametrize("verify", INCLUSION_VERIFIERS, ids=["hub", "docs"])
def test_every_small_inclusion_exhaustively(verify: Callable[[Inclusion], bool]) -> None:
    for size in range(1, 18):
        tree = _tree(size, size)
        for index in range(size):
            honest = honest_inclusion(tree, index, size)
            assert verify(honest), (index, size)
            for name, mutant in inclusion_mutations(honest):
                assert not verify(mutant), (index, size, name)
