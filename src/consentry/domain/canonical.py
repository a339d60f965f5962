"""Canonical JSON: keys sorted, no spaces, UTF-8 — the bytes that are hashed and signed."""

from __future__ import annotations

from typing import Any

import orjson


def canonical_json(value: Any) -> bytes:
    """orjson with sorted keys writes exactly this form (and is the fastest encoder we have)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
