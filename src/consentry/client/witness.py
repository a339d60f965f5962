"""A witness of a Consentry hub's evidence log, run by someone other than the retailer (an
auditor, a partner, a second site): it keeps the last checkpoint it cosigned, checks that every
new one extends it (an RFC 9162 consistency proof), and only then cosigns it
(c2sp.org/tlog-cosignature) and hands the cosignature to the hub. A checkpoint that does not
extend what it saw is never cosigned: the two signed checkpoints are the evidence of a log
that rewrote its history, or showed different histories to different people.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentry.client.hub_http import get_ok
from consentry.domain.merkle import verify_consistency
from consentry.domain.notes import (
    COSIGNATURE_V1,
    Checkpoint,
    NoteError,
    NoteKey,
    cosign,
    open_checkpoint,
    parse_checkpoint,
    parse_note,
)

STATE_FILE = "checkpoint"


class SplitView(Exception):
    """The log showed a checkpoint that does not extend the one this witness cosigned."""

    def __init__(self, reason: str, seen: str, shown: str) -> None:
        super().__init__(reason)
        self.reason, self.seen, self.shown = reason, seen, shown


class WitnessError(Exception):
    """The hub could not be asked, or answered something that is not a checkpoint of the log."""


@dataclass(frozen=True)
class Cosigned:
    size: int
    previous: int | None  # the size cosigned before, None on the first run


def create_key(path: Path) -> Ed25519PrivateKey:
    """A new witness key, written to ``path`` (PKCS#8 PEM, readable by the owner only)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise WitnessError(f"{path} does not hold an Ed25519 private key")
    return key


def verifier_key(name: str, key: Ed25519PrivateKey) -> str:
    """What the hub's CONSENTRY_WITNESSES lists for this witness."""
    return NoteKey.of(name, COSIGNATURE_V1, key).vkey()


def _save(state: Path, note: str) -> None:
    """The cosigned checkpoint, durably, before the cosignature leaves this machine: a witness
    that crashed after cosigning must not cosign an older checkpoint afterwards."""
    state.mkdir(parents=True, exist_ok=True)
    fresh = state / (STATE_FILE + ".new")
    with open(fresh, "w", encoding="utf-8") as out:
        out.write(note)
        out.flush()
        os.fsync(out.fileno())
    os.replace(fresh, state / STATE_FILE)
    directory = os.open(state, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def witness_once(
    http: httpx.Client, state: Path, key: Ed25519PrivateKey, name: str, log_key: NoteKey
) -> Cosigned:
    """Fetch the hub's checkpoint, check it extends the last one cosigned, cosign it, keep it,
    and submit the cosignature. ``http``: a client with the hub's base URL (and an API key)."""
    shown = get_ok(http, "/v1/evidence/checkpoint", WitnessError).text
    try:
        note, new = open_checkpoint(shown, log_key)
    except NoteError as exc:
        raise WitnessError(f"the hub's checkpoint is not one of the log's: {exc}") from None
    previous = None
    seen_file = state / STATE_FILE
    if seen_file.exists():
        seen = seen_file.read_text(encoding="utf-8")
        try:
            old = parse_checkpoint(parse_note(seen).text)
        except NoteError as exc:
            raise WitnessError(
                f"{seen_file} is not a checkpoint this witness kept: {exc}"
            ) from None
        _check_extends(http, old, new, seen, shown)
        previous = old.size
    signature = cosign(note.text, name, key, int(time.time()))
    cosigned = note.with_signatures([signature]).render()
    _save(state, cosigned)
    try:
        answer = http.post("/v1/evidence/cosignatures", content=cosigned.encode())
    except httpx.HTTPError as exc:
        raise WitnessError(f"the cosignature was kept but not delivered: {exc}") from None
    if answer.status_code != 200:
        raise WitnessError(
            f"the hub refused the cosignature ({answer.status_code}): {answer.text[:200]}"
        )
    return Cosigned(new.size, previous)


def _check_extends(
    http: httpx.Client, old: Checkpoint, new: Checkpoint, seen: str, shown: str
) -> None:
    if new.size < old.size:
        raise SplitView(f"the log shrank from {old.size} to {new.size} records", seen, shown)
    if new.size == old.size:
        if new.root != old.root:
            raise SplitView(f"two different trees of {new.size} records", seen, shown)
        return
    if old.size == 0:
        return
    answer = get_ok(
        http, "/v1/evidence/consistency", WitnessError, **{"from": old.size, "to": new.size}
    )
    try:
        proof = [bytes.fromhex(h) for h in answer.json()["proof"]]
    except (ValueError, KeyError, TypeError):
        raise WitnessError("the hub's consistency proof is not a list of hex hashes") from None
    if not verify_consistency(old.size, new.size, old.root, new.root, proof):
        raise SplitView(
            f"the tree of {new.size} records does not extend the tree of {old.size}", seen, shown
        )
