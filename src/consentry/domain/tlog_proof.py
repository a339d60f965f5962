"""Offline proofs that a record is in the log: c2sp.org/tlog-proof.

A proof names the leaf's index, carries its RFC 6962 inclusion proof and, verbatim, the signed
checkpoint (with witnesses' cosignatures) it is proven against. Consentry puts the leaf itself
(the record's canonical JSON) in the ``extra`` line: the verifier hashes it, so it needs nothing
else from the hub to bind a receipt to the log.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

HEADER = "c2sp.org/tlog-proof@v1"


class TlogProofError(ValueError):
    """The text is not a tlog proof."""


@dataclass(frozen=True)
class TlogProof:
    index: int
    path: tuple[bytes, ...]  # from the leaf's sibling up to the root's child
    checkpoint: str  # the signed note, verbatim
    extra: bytes | None = None

    def render(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode())
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(h).decode() for h in self.path)
        return "\n".join(lines) + "\n\n" + self.checkpoint


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise TlogProofError(f"{what} is not base64") from None


def parse_tlog_proof(text: str) -> TlogProof:
    head, blank, checkpoint = text.partition("\n\n")
    if not blank or not checkpoint:
        raise TlogProofError("a tlog proof ends with an empty line and the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise TlogProofError(f"a tlog proof starts with the line {HEADER!r}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest[0][len("extra ") :], "the extra data")
        rest = rest[1:]
    if not rest or not rest[0].startswith("index "):
        raise TlogProofError("the line after the header (and extra) is 'index N'")
    index = rest[0][len("index ") :]
    if not index.isascii() or not index.isdigit() or (index != "0" and index.startswith("0")):
        raise TlogProofError("the index is a decimal number without leading zeroes")
    path = tuple(_b64(line, "an inclusion proof line") for line in rest[1:])
    if any(len(h) != 32 for h in path):
        raise TlogProofError("every inclusion proof line is one 32-byte SHA-256 hash")
    return TlogProof(int(index), path, checkpoint, extra)
