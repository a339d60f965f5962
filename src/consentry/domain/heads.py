"""Signed tree heads: the log's size and root at a moment, signed with Ed25519."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from consentry.domain.canonical import canonical_json


class HeadSigner(Protocol):
    """What signs tree heads (the log's key: ``consentry.signing.Signer``)."""

    key_id: str

    def sign(self, payload: bytes) -> str: ...


def head_payload(size: int, root_hash: str, timestamp: str) -> bytes:
    """The exact bytes that are signed: canonical JSON of size, root and time."""
    return canonical_json({"size": size, "root_hash": root_hash, "timestamp": timestamp})


@dataclass(frozen=True)
class TreeHead:
    size: int
    root_hash: str  # hex
    timestamp: str  # RFC 3339
    signature: str  # base64 (standard alphabet, padded)
    key_id: str

    def payload(self) -> bytes:
        return head_payload(self.size, self.root_hash, self.timestamp)

    def as_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "root_hash": self.root_hash,
            "timestamp": self.timestamp,
            "signature": self.signature,
            "key_id": self.key_id,
        }
