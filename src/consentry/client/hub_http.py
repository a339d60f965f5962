"""The one way the witness and the monitor ask the hub something: a GET that answers 200, or
the caller's own error saying what went wrong."""

from __future__ import annotations

import httpx


def get_ok(http: httpx.Client, path: str, error: type[Exception], **params: int) -> httpx.Response:
    try:
        answer = http.get(path, params=params or None)
    except httpx.HTTPError as exc:
        raise error(f"the hub did not answer: {exc}") from None
    if answer.status_code != 200:
        raise error(f"GET {path} answered {answer.status_code}: {answer.text[:200]}")
    return answer
