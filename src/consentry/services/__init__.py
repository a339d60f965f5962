"""Use cases. Each opens its own transaction (or takes the caller's, for idempotent writes)."""
