"""What every wire model shares: strict models (unknown fields refused, so that typos are
reported, not ignored), bounded free-form JSON, pages."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict

MAX_BATCH = 100_000


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Free-form JSON a caller sends (a proof, an answer, an event): at most this deep and this
# large, so that no value is too deep to hash, store or send on (orjson stops at 254 levels).
MAX_JSON_DEPTH = 16


MAX_JSON_BYTES = 16 * 1024


def _depth(value: Any, limit: int) -> int:
    if isinstance(value, dict | list) and limit <= 0:
        return 1
    if isinstance(value, dict):
        return 1 + max((_depth(v, limit - 1) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v, limit - 1) for v in value), default=0)
    return 0


def bounded_json(value: Any) -> Any:
    if _depth(value, MAX_JSON_DEPTH + 1) > MAX_JSON_DEPTH:
        raise ValueError(f"nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError as exc:  # an integer past 64 bits, a lone surrogate
        raise ValueError(f"cannot be kept as JSON: {exc}") from None
    if size > MAX_JSON_BYTES:
        raise ValueError(f"larger than {MAX_JSON_BYTES} bytes as JSON")
    return value


BoundedJson = Annotated[Any, AfterValidator(bounded_json)]


BoundedObject = Annotated[dict[str, Any], AfterValidator(bounded_json)]


class Page(BaseModel):
    next: str | None
