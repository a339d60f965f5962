"""Why the vault cannot work: reported to the operator, never worked around."""

from __future__ import annotations


class VaultError(Exception):
    """A wrong, missing or damaged master key or key store: the server must not start."""


class KeyGone(Exception):
    """The customer's data key does not exist (erased, or never made)."""
