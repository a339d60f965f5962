"""Evidence records: what was agreed, to which notice, where, by whom — as a log leaf.

A leaf is the canonical JSON of the record without ``seq`` and ``leaf_hash``. It names the
customer only by opaque id; the actor's id, the location and the proof enter it as salted
SHA-256 commitments, whose openings are kept beside the record and destroyed on erasure, so the
log keeps verifying while nothing in it identifies a person any more.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from consentry.domain.canonical import canonical_json
from consentry.domain.consent import Action, ActorType, Source
from consentry.domain.merkle import leaf_hash

LEAF_VERSION = 1


@dataclass(frozen=True)
class Opening:
    """The clear value behind a commitment, and the salt that hides it."""

    salt: str  # hex
    value: Any

    @classmethod
    def of(cls, value: Any) -> Opening:
        return cls(secrets.token_hex(16), value)

    def commitment(self) -> str:
        return commit(self.salt, self.value)


def commit(salt_hex: str, value: Any) -> str:
    return hashlib.sha256(bytes.fromhex(salt_hex) + canonical_json(value)).hexdigest()


@dataclass(frozen=True)
class EvidenceRecord:
    id: str
    customer_id: str
    purpose: str
    purpose_version: int
    notice_hash: str
    channel: str | None
    action: Action
    source: Source
    actor_type: ActorType
    actor_commitment: str | None
    location_commitment: str | None
    proof_commitment: str | None
    captured_at: str
    recorded_at: str

    def leaf(self) -> dict[str, Any]:
        return {
            "v": LEAF_VERSION,
            "id": self.id,
            "customer_id": self.customer_id,
            "purpose": self.purpose,
            "purpose_version": self.purpose_version,
            "notice_hash": self.notice_hash,
            "channel": self.channel,
            # The members themselves: they are strs, and orjson writes their values.
            "action": self.action,
            "source": self.source,
            "actor_type": self.actor_type,
            "actor_commitment": self.actor_commitment,
            "location_commitment": self.location_commitment,
            "proof_commitment": self.proof_commitment,
            "captured_at": self.captured_at,
            "recorded_at": self.recorded_at,
        }

    # Computed once: a write needs the bytes (stored), the hash (stored) and the dict (answered).
    @cached_property
    def leaf_bytes(self) -> bytes:
        return canonical_json(self.leaf())

    @cached_property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.leaf_bytes)


def leaf_bytes_of(line: dict[str, Any]) -> bytes:
    """The leaf of an exported or API record: the record without ``seq`` and ``leaf_hash``."""
    return canonical_json({k: v for k, v in line.items() if k not in ("seq", "leaf_hash")})
