"""The proofs the hub serves, on both engines, pass every verifier and none of their mutants
does (tests/proof_mutations.py; the verifiers of tests/unit/test_proof_mutations.py)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import change, make_customer, make_purpose
from tests.proof_mutations import (
    Consistency,
    Inclusion,
    consistency_mutations,
    inclusion_mutations,
)
from tests.unit.test_proof_mutations import CONSISTENCY_VERIFIERS, INCLUSION_VERIFIERS

SIZE = 13


def _hexes(values: list[str]) -> tuple[bytes, ...]:
    return tuple(bytes.fromhex(v) for v in values)


def test_every_served_proof_verifies_and_no_mutant_does(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    records = [
        change(client, cid, action=("grant", "withdraw")[i % 2]).json()["record"]["id"]
        for i in range(SIZE)
    ]
    head = client.get("/v1/evidence/head").json()
    assert head["size"] == SIZE
    roots = {}
    for record in records:
        served = client.get(f"/v1/evidence/records/{record}/proof").json()
        honest = Inclusion(
            served["leaf_index"],
            served["tree_size"],
            bytes.fromhex(served["leaf_hash"]),
            _hexes(served["audit_path"]),
            bytes.fromhex(head["root_hash"]),
        )
        for verify in INCLUSION_VERIFIERS:
            assert verify(honest), (verify.__name__, honest.index)
            for name, mutant in inclusion_mutations(honest):
                assert not verify(mutant), (verify.__name__, honest.index, name)
        at = client.get(
            f"/v1/evidence/records/{record}/proof", params={"size": served["leaf_index"] + 1}
        )
        roots[served["leaf_index"] + 1] = bytes.fromhex(at.json()["root_hash"])
    roots[0] = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    for old in range(SIZE + 1):
        proof = client.get("/v1/evidence/consistency", params={"from": old, "to": SIZE}).json()
        honest_c = Consistency(old, SIZE, roots[old], roots[SIZE], _hexes(proof["proof"]))
        for verify_c in CONSISTENCY_VERIFIERS:
            assert verify_c(honest_c), (verify_c.__name__, old)
            for name, mutant_c in consistency_mutations(honest_c):
                assert not verify_c(mutant_c), (verify_c.__name__, old, name)
