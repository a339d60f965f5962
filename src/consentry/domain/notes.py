"""Signed notes, checkpoints and cosignatures in the open formats of the transparency-log
ecosystem, so that an auditor can check our evidence log's heads with tools not written by us:

- c2sp.org/signed-note: a text, a blank line, then signature lines ``— <name> base64(key ID ||
  signature)``; verifier keys ``<name>+<hex key ID>+base64(type || public key)``;
- c2sp.org/tlog-checkpoint: the note text ``<origin>\\n<size>\\n<base64 root>\\n`` (RFC 6962 root);
- c2sp.org/tlog-cosignature: a witness's timestamped Ed25519 signature (type 0x04) over
  ``cosignature/v1\\ntime <t>\\n`` followed by the checkpoint's text.

Written here rather than taken from a library: no maintained Python package implements these
formats (Go's golang.org/x/mod/sumdb/note and transparency-dev's are the references); the
signatures themselves are the ``cryptography`` package's Ed25519.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from consentry.domain.merkle import EMPTY_ROOT

ED25519 = 0x01  # a note signed by the log itself
COSIGNATURE_V1 = 0x04  # a witness's timestamped Ed25519 cosignature
_KINDS = (ED25519, COSIGNATURE_V1)
DASH = "\u2014"
# The spec asks verifiers to accept at least 16 signatures and to bound them.
MAX_SIGNATURES = 64
MAX_NOTE_BYTES = 64 * 1024


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or does not verify (the message says why)."""


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what} is not base64") from None


def check_name(name: str) -> None:
    if not name or any(c.isspace() or c == "+" for c in name):
        raise NoteError(f"key name {name!r} is empty or has a space or a plus sign")


@dataclass(frozen=True)
class NoteKey:
    """A verifier key: the key's name, its signature type and its 32-byte Ed25519 public key."""

    name: str
    kind: int
    public: bytes

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.kind not in _KINDS:
            raise NoteError(f"signature type {self.kind:#04x} is not one this hub uses")
        if len(self.public) != 32:
            raise NoteError("an Ed25519 public key has 32 bytes")

    @property
    def key_id(self) -> bytes:
        material = self.name.encode() + b"\n" + bytes([self.kind]) + self.public
        return hashlib.sha256(material).digest()[:4]

    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([self.kind]) + self.public).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def of(cls, name: str, kind: int, key: Ed25519PublicKey | Ed25519PrivateKey) -> NoteKey:
        public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
        return cls(name, kind, public.public_bytes(Encoding.Raw, PublicFormat.Raw))

    @classmethod
    def parse(cls, vkey: str) -> NoteKey:
        # The base64 key may hold plus signs itself: the name and the ID end at the first two.
        name, _, rest = vkey.strip().partition("+")
        key_id, _, material = rest.partition("+")
        if not material:
            raise NoteError("a verifier key is <name>+<key ID in hex>+<base64 key>")
        raw = _b64decode(material, "the verifier key's key")
        if not raw:
            raise NoteError("the verifier key has no key")
        key = cls(name, raw[0], raw[1:])
        if key.key_id.hex() != key_id.lower():
            raise NoteError(f"the verifier key's ID {key_id} is not the one its key gives")
        return key


def log_key(vkey: str) -> NoteKey:
    """A log's verifier key (its checkpoints are signed with type 0x01, Ed25519)."""
    key = NoteKey.parse(vkey)
    if key.kind != ED25519:
        raise NoteError("the log's key signs notes (type 0x01)")
    return key


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{DASH} {self.name} {encoded}\n"

    @property
    def timestamp(self) -> int | None:
        """A cosignature's time (POSIX seconds), if this is one's length."""
        return int.from_bytes(self.signature[:8], "big") if len(self.signature) == 72 else None


@dataclass(frozen=True)
class Note:
    text: str  # ends with a newline
    signatures: tuple[NoteSignature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signatures(self, more: Sequence[NoteSignature]) -> Note:
        """The note with ``more`` signatures added (one per key: a newer one replaces)."""
        kept = {(s.name, s.key_id): s for s in self.signatures}
        for signature in more:
            kept[(signature.name, signature.key_id)] = signature
        return Note(self.text, tuple(kept.values()))


def parse_note(data: str | bytes) -> Note:
    """A signed note from its text form; NoteError naming what is wrong."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError(f"a note has at most {MAX_NOTE_BYTES} bytes")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("a note is UTF-8 text") from None
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise NoteError("a note has no control characters other than newline")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise NoteError("a note is a text, a blank line and signature lines, each ending in \\n")
    text, lines = data[: split + 1], data[split + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a note has at most {MAX_SIGNATURES} signatures")
    return Note(text, tuple(parse_signature_line(line) for line in lines))


def parse_signature_line(line: str) -> NoteSignature:
    parts = line.rstrip("\n").split(" ")
    if len(parts) != 3 or parts[0] != DASH:
        raise NoteError("a signature line is '\u2014 <key name> <base64 signature>'")
    check_name(parts[1])
    raw = _b64decode(parts[2], "a signature")
    if len(raw) < 5:
        raise NoteError("a signature is a 4-byte key ID and the signature")
    return NoteSignature(parts[1], raw[:4], raw[4:])


def _cosigned_message(text: str, timestamp: int) -> bytes:
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


def sign(text: str, name: str, key: Ed25519PrivateKey) -> NoteSignature:
    """The log's own Ed25519 note signature (type 0x01) over ``text``."""
    note_key = NoteKey.of(name, ED25519, key)
    return NoteSignature(name, note_key.key_id, key.sign(text.encode()))


def cosign(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> NoteSignature:
    """A witness's cosignature (type 0x04) of a checkpoint's text, at ``timestamp``."""
    if not 0 < timestamp < 2**63:
        raise NoteError("a cosignature's time is a positive POSIX timestamp")
    note_key = NoteKey.of(name, COSIGNATURE_V1, key)
    signed = key.sign(_cosigned_message(text, timestamp))
    return NoteSignature(name, note_key.key_id, timestamp.to_bytes(8, "big") + signed)


def verify(note: Note, keys: Sequence[NoteKey]) -> list[tuple[NoteKey, NoteSignature]]:
    """The signatures of ``keys`` on the note, each verified. Signatures of unknown keys are
    ignored; one of a known key that fails, or none of a known key at all, rejects the note."""
    by_id = {(k.name, k.key_id): k for k in keys}
    found = []
    for signature in note.signatures:
        key = by_id.get((signature.name, signature.key_id))
        if key is None:
            continue
        public = Ed25519PublicKey.from_public_bytes(key.public)
        if key.kind == COSIGNATURE_V1:
            if len(signature.signature) != 72:
                raise NoteError(f"the cosignature of {key.name} has the wrong length")
            stamp = int.from_bytes(signature.signature[:8], "big")
            message, raw = _cosigned_message(note.text, stamp), signature.signature[8:]
        else:
            message, raw = note.text.encode(), signature.signature
        try:
            public.verify(raw, message)
        except InvalidSignature:
            raise NoteError(f"the signature of {key.name} does not verify") from None
        found.append((key, signature))
    if not found:
        raise NoteError("no signature of a known key on the note")
    return found


@dataclass(frozen=True)
class Checkpoint:
    """A log's tree head as c2sp.org/tlog-checkpoint writes it."""

    origin: str
    size: int
    root: bytes  # the RFC 6962 root hash

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or any(not line for line in lines[:-1]):
        raise NoteError("a checkpoint is at least three non-empty lines, each ending in \\n")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
        raise NoteError("a checkpoint's size is a decimal number without leading zeroes")
    digest = _b64decode(root, "the checkpoint's root hash")
    if len(digest) != 32:
        raise NoteError("a checkpoint's root hash is 32 bytes")
    return Checkpoint(origin, int(size), digest)


def open_checkpoint(text: str | bytes, log_key: NoteKey) -> tuple[Note, Checkpoint]:
    """A checkpoint a log showed, believed only if the log's key signed it, it names that log,
    and an empty tree has the empty root; NoteError saying which fails. The one reading of a
    shown checkpoint for the witness, the monitor and the client."""
    note = parse_note(text)
    verify(note, [log_key])
    checkpoint = parse_checkpoint(note.text)
    if checkpoint.origin != log_key.name:
        raise NoteError(f"the checkpoint names the log {checkpoint.origin!r}, not {log_key.name!r}")
    if checkpoint.size == 0 and checkpoint.root != EMPTY_ROOT:
        raise NoteError("an empty log whose root is not the hash of nothing")
    return note, checkpoint
