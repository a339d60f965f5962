"""The log's Ed25519 signing key: created on first start, published as a JWK, used for tree
heads and for consent receipts (compact JWS, EdDSA)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import jwt
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from consentry.domain import notes
from consentry.domain.notes import ED25519, NoteKey, NoteSignature


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = _b64url(raw)
    # RFC 7638 thumbprint: SHA-256 of the required members in lexical order, no spaces.
    thumbprint = _b64url(
        hashlib.sha256(f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()).digest()
    )
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": thumbprint, "alg": "EdDSA", "use": "sig"}


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.jwk = public_jwk(private_key.public_key())
        self.key_id = self.jwk["kid"]

    @classmethod
    def load_or_create(cls, path: Path) -> Signer:
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError(f"{path} does not hold an Ed25519 private key")
            return cls(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # O_EXCL: two processes starting at once must not both write a key.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return cls.load_or_create(path)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        return cls(key)

    def sign(self, payload: bytes) -> str:
        return base64.b64encode(self._key.sign(payload)).decode()

    def note_key(self, name: str) -> NoteKey:
        """The verifier key of this key's signed notes (checkpoints) under ``name``."""
        return NoteKey.of(name, ED25519, self._key)

    def sign_note(self, text: str, name: str) -> NoteSignature:
        return notes.sign(text, name, self._key)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk]}

    def sign_jws(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self._key, algorithm="EdDSA", headers={"kid": self.key_id, "typ": "JWT"}
        )


def keys_from_jwks(jwks: dict[str, Any]) -> dict[str, Ed25519PublicKey]:
    keys: dict[str, Ed25519PublicKey] = {}
    for jwk in jwks.get("keys", []):
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            public = Ed25519PublicKey.from_public_bytes(_b64url_decode(jwk["x"]))
            keys[jwk.get("kid") or public_jwk(public)["kid"]] = public
    return keys


def verify_signature(public_key: Ed25519PublicKey, payload: bytes, signature_b64: str) -> bool:
    try:
        public_key.verify(base64.b64decode(signature_b64, validate=True), payload)
    except (InvalidSignature, ValueError):
        return False
    return True
