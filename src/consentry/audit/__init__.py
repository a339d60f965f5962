"""Checks an auditor runs with nothing but an export and the public keys."""
