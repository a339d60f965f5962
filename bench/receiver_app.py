"""A fast webhook receiver for the benchmarks (run by uvicorn in its own process): answers 204
at once and remembers when each webhook-id first arrived; GET /stats tells."""

from __future__ import annotations

import json
import time
from typing import Any

arrivals: dict[str, float] = {}
count = 0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global count
    if scope["type"] != "http":
        return
    if scope["method"] == "GET":
        # "/count" is cheap to poll; "/" tells every arrival too.
        everything = (
            {"count": count}
            if scope["path"] == "/count"
            else {"count": count, "arrivals": arrivals}
        )
        body = json.dumps(everything).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    now = time.time()
    count += 1
    for name, value in scope["headers"]:
        if name == b"webhook-id":
            arrivals.setdefault(value.decode(), now)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
