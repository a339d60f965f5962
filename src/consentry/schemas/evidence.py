"""The evidence log: heads, proofs and receipt bundles, on the wire."""

from __future__ import annotations

from pydantic import BaseModel, Field


class TreeHeadOut(BaseModel):
    size: int
    root_hash: str
    timestamp: str
    signature: str
    key_id: str


class InclusionProofOut(BaseModel):
    leaf_index: int
    tree_size: int
    audit_path: list[str]
    leaf_hash: str
    root_hash: str


class ConsistencyProofOut(BaseModel):
    proof: list[str]


class ReceiptBundleOut(BaseModel):
    receipt: str = Field(description="the consent receipt, a compact JWS (EdDSA)")
    tlog_proof: str = Field(
        description="c2sp.org/tlog-proof: the record's leaf (extra), its index, its inclusion "
        "proof and the signed checkpoint, with cosignatures, that holds it"
    )
