"""The primitives, all from `cryptography`: AES-256-GCM, HKDF-SHA-256 and HMAC-SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
# The first byte of every sealed value: lets the format change without guessing.
FORMAT = b"\x01"


class Unsealable(Exception):
    """Wrong key, wrong associated data, or altered ciphertext."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(key: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    # Random 96-bit nonces: a data key seals at most a few thousand values, far below the
    # 2^32 messages after which random nonces start to risk a collision.
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + key.encrypt(nonce, plaintext, aad)


def unseal(key: AESGCM, sealed: bytes, aad: bytes) -> bytes:
    if sealed[:1] != FORMAT:
        raise Unsealable("unknown sealed-value format")
    try:
        return key.decrypt(sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :], aad)
    except InvalidTag as exc:
        raise Unsealable("the value does not open with this key") from exc


def derive(secret: bytes, purpose: str) -> bytes:
    """A key for one use, derived from the master secret (HKDF, RFC 5869)."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(secret)


def mac(key: bytes, message: bytes) -> str:
    return hmac.digest(key, message, hashlib.sha256).hex()
