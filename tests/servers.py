"""A real `consentry serve` in its own process, for the tests that speak HTTP to it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(
    env: dict[str, str], *args: str, output: IO[bytes] | None = None, port: int | None = None
) -> Iterator[str]:
    """Start the server with ``env`` added to this process's environment (``""`` removes a
    variable) and the extra ``args``; yield its base URL once /healthz answers."""
    port = port or free_port()
    environment = {**os.environ, **env}
    for name in [k for k, v in env.items() if v == ""]:
        environment.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "consentry.cli", "serve", "--port", str(port), *args],
        env=environment,
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
