"""RFC 9162 / RFC 6962 tree hashes and proofs, checked against the published test data of the
RFC 6962 reference implementation (certificate-transparency, now transparency-dev/merkle:
testonly/constants.go and proof/verify_test.go). The expected hashes are copied from there."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consentry.domain.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
ROOTS = [
    bytes.fromhex(h)
    for h in (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (leaf index, tree size, audit path) — the vectors number leaves from 1; here from 0.
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def _tree(n: int) -> MerkleTree:
    tree = MerkleTree()
    tree.extend(leaf_hash(leaf) for leaf in LEAVES[:n])
    return tree


def test_empty_tree_is_the_hash_of_nothing() -> None:
    assert EMPTY_ROOT == hashlib.sha256(b"").digest() == ROOTS[0]
    assert MerkleTree().root() == ROOTS[0]


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_reference_vectors(size: int) -> None:
    hashes = [leaf_hash(leaf) for leaf in LEAVES[:size]]
    assert _tree(8).root(size) == ROOTS[size]
    assert root_from_leaf_hashes(hashes) == ROOTS[size]
    assert CompactRange.from_leaf_hashes(hashes).root() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(
    index: int, size: int, path: list[str]
) -> None:
    proof = _tree(8).inclusion_proof(index, size)
    assert [p.hex() for p in proof] == path
    assert verify_inclusion(index, size, leaf_hash(LEAVES[index]), proof, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(
    old: int, new: int, path: list[str]
) -> None:
    proof = _tree(8).consistency_proof(old, new)
    assert [p.hex() for p in proof] == path
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION[1:])
def test_corrupted_inclusion_proofs_fail(index: int, size: int, path: list[str]) -> None:
    proof = [bytes.fromhex(p) for p in path]
    leaf = leaf_hash(LEAVES[index])
    root = ROOTS[size]
    assert not verify_inclusion(index + 1, size, leaf, proof, root)
    assert not verify_inclusion(index, size * 2, leaf, proof, root)
    assert not verify_inclusion(index, size, b"WrongLeaf".ljust(32, b"\0"), proof, root)
    assert not verify_inclusion(index, size, leaf, proof, EMPTY_ROOT)
    assert not verify_inclusion(index, size, leaf, [*proof, root], root)
    assert not verify_inclusion(index, size, leaf, [root, *proof], root)
    assert not verify_inclusion(index, size, leaf, proof[:-1], root)
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        assert not verify_inclusion(index, size, leaf, flipped, root)


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY[1:])
def test_corrupted_consistency_proofs_fail(old: int, new: int, path: list[str]) -> None:
    proof = [bytes.fromhex(p) for p in path]
    r1, r2 = ROOTS[old], ROOTS[new]
    assert not verify_consistency(old, new, r2, r1, proof)
    assert not verify_consistency(old, new, r1, r2, [])
    assert not verify_consistency(old, new, r1, r2, [*proof, r1])
    assert not verify_consistency(old, new, r1, r2, proof[:-1])
    assert not verify_consistency(old - 1, new, r1, r2, proof)
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        assert not verify_consistency(old, new, r1, r2, flipped)


def test_special_sizes() -> None:
    assert verify_consistency(0, 0, ROOTS[0], ROOTS[0], [])
    assert not verify_consistency(3, 3, ROOTS[3], ROOTS[3], [ROOTS[3]])
    assert not verify_consistency(0, 3, ROOTS[1], ROOTS[3], [])  # not the empty tree's root
    assert not verify_consistency(0, 1, ROOTS[0], ROOTS[1], [EMPTY_ROOT])
    assert not verify_consistency(2, 1, ROOTS[2], ROOTS[1], [])
    assert not verify_inclusion(0, 0, leaf_hash(b""), [], ROOTS[0])


@given(st.integers(min_value=1, max_value=70), st.data())
def test_every_proof_of_every_tree_verifies(size: int, data: st.DataObject) -> None:
    hashes = [leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    tree = MerkleTree()
    tree.extend(hashes)
    frontier = CompactRange.from_leaf_hashes(hashes)
    assert tree.root() == frontier.root() == root_from_leaf_hashes(hashes)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    assert verify_inclusion(
        index, size, hashes[index], tree.inclusion_proof(index, size), tree.root()
    )
    old = data.draw(st.integers(min_value=1, max_value=size))
    assert verify_consistency(
        old, size, tree.root(old), tree.root(), tree.consistency_proof(old, size)
    )
