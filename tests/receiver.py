"""A real local webhook receiver (an HTTP server on a port of this machine, not a mock) that
can answer 200, fail with 500, be slow, or be down."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass
class Receiver:
    url: str
    status: int = 200
    delay: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]


class _Server(ThreadingHTTPServer):
    # socketserver listens with a backlog of 5. Two workers opening 64 connections at once
    # overflow it; the kernel then drops SYNs, and a connect waits for the retransmission
    # (1 s, 3 s, 7 s...) until the delivery times out. Real receivers (nginx: 511) queue more.
    request_queue_size = 1024


@contextmanager
def receiving(status: int = 200, delay: float = 0.0) -> Iterator[Receiver]:
    receiver = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", 0))
            body = self.rfile.read(length)
            if len(body) != length:  # the sender died mid-request: nothing was delivered
                return
            # Recorded as it arrives; a slow receiver then takes its time to answer.
            with receiver.lock:
                receiver.received.append(
                    Received({k.lower(): v for k, v in self.headers.items()}, body, time.time())
                )
            if receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(receiver.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = _Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    receiver.status, receiver.delay = status, delay
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
