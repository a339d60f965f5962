"""Offline verification of a receipt bundle: the receipt, the leaf it names, the leaf's place in
a signed (and cosigned) checkpoint. Needs the hub's JWKS and, for the witnesses a verifier
trusts, their verifier keys; never the hub itself.

The four checks of c2sp.org/tlog-proof, plus the receipt's own: (1) the receipt's JWS verifies
with a key of the JWKS; (2) the leaf in the proof's extra data hashes to the receipt's
``leaf_hash`` and says what the receipt says; (3) the checkpoint is signed by the same key under
the log's origin, and cosigned by every witness the verifier names; (4) the inclusion proof
binds the leaf hash to the checkpoint's root.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jwt
import orjson

from consentry.domain.merkle import ProofError, leaf_hash, root_from_inclusion_proof
from consentry.domain.notes import (
    ED25519,
    NoteError,
    NoteKey,
    parse_checkpoint,
    parse_note,
    verify,
)
from consentry.domain.tlog_proof import TlogProofError, parse_tlog_proof
from consentry.signing import keys_from_jwks

# What the receipt says and the logged leaf must say alike.
_AGREEING = ("purpose", "purpose_version", "notice_hash", "action", "channel", "captured_at")


@dataclass
class ReceiptVerdict:
    ok: bool
    problems: list[str] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)
    index: int | None = None
    size: int | None = None
    witnesses: list[str] = field(default_factory=list)


def verify_bundle(
    bundle: dict[str, Any], jwks: dict[str, Any], witness_keys: list[NoteKey]
) -> ReceiptVerdict:
    verdict = ReceiptVerdict(ok=False)
    problems = verdict.problems
    keys = keys_from_jwks(jwks)
    token, proof_text = bundle.get("receipt"), bundle.get("tlog_proof")
    if not isinstance(token, str) or not isinstance(proof_text, str):
        problems.append("not a receipt bundle: it needs 'receipt' and 'tlog_proof' strings")
        return verdict
    try:
        kid = jwt.get_unverified_header(token).get("kid")
        key = keys.get(str(kid))
        if key is None:
            problems.append(f"the receipt was signed with key {kid!r}, not one of the JWKS")
            return verdict
        claims = jwt.PyJWS().decode_complete(token, key, algorithms=["EdDSA"])["payload"]
        verdict.claims = orjson.loads(claims)
    except (jwt.InvalidTokenError, orjson.JSONDecodeError):
        problems.append("the receipt's signature does not verify: it was altered or forged")
        return verdict
    try:
        proof = parse_tlog_proof(proof_text)
        note = parse_note(proof.checkpoint)
        checkpoint = parse_checkpoint(note.text)
    except (TlogProofError, NoteError) as exc:
        problems.append(f"the proof is malformed: {exc}")
        return verdict
    verdict.index, verdict.size = proof.index, checkpoint.size
    _check_leaf(verdict, proof.extra)
    log_keys = [NoteKey.of(checkpoint.origin, ED25519, k) for k in keys.values()]
    try:
        verify(note, log_keys)
    except NoteError as exc:
        problems.append(f"the checkpoint is not signed by the log's key: {exc}")
    for witness in witness_keys:
        try:
            verify(note, [witness])
            verdict.witnesses.append(witness.name)
        except NoteError as exc:
            problems.append(f"witness {witness.name}: {exc}")
    claimed = str(verdict.claims.get("leaf_hash", ""))
    try:
        root = root_from_inclusion_proof(
            proof.index, checkpoint.size, bytes.fromhex(claimed), proof.path
        )
        if root != checkpoint.root:
            problems.append(
                f"the inclusion proof does not lead to the root of the tree of "
                f"{checkpoint.size} records: the record is not in that tree at {proof.index}"
            )
    except (ProofError, ValueError) as exc:
        problems.append(f"the inclusion proof is not valid: {exc}")
    verdict.ok = not problems
    return verdict


def _check_leaf(verdict: ReceiptVerdict, leaf: bytes | None) -> None:
    claims = verdict.claims
    if leaf is None:
        verdict.problems.append("the proof carries no leaf (its extra data)")
        return
    if leaf_hash(leaf).hex() != claims.get("leaf_hash"):
        verdict.problems.append("the leaf in the proof does not hash to the receipt's leaf_hash")
        return
    try:
        record = orjson.loads(leaf)
    except orjson.JSONDecodeError:
        verdict.problems.append("the leaf in the proof is not JSON")
        return
    if record.get("id") != claims.get("record_id"):
        verdict.problems.append("the leaf is another record than the receipt's")
    for name in _AGREEING:
        if record.get(name) != claims.get(name):
            verdict.problems.append(f"the receipt's {name} differs from the logged record's")
