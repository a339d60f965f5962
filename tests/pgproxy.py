"""A TCP proxy in front of the local PostgreSQL that can stop answering, as a server does
that hangs or whose host vanished: `freeze()` cuts the connections it carries and accepts new
ones without ever answering them; `thaw()` serves again. A real part on this machine, not a
mock: the server under test speaks to PostgreSQL through it."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


class FreezingProxy:
    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.frozen = threading.Event()
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self._lock:
                self._open.append(client)
            if self.frozen.is_set():
                continue  # accepted, never answered
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._open.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if self.frozen.is_set():
                    return
                sink.sendall(data)

    def freeze(self) -> None:
        self.frozen.set()
        with self._lock:
            carried, self._open = self._open, []
        for s in carried:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()

    def thaw(self) -> None:
        self.frozen.clear()

    def close(self) -> None:
        self._closed = True
        self.freeze()
        self.listener.close()


@contextlib.contextmanager
def freezing_proxy() -> Iterator[FreezingProxy]:
    proxy = FreezingProxy()
    try:
        yield proxy
    finally:
        proxy.close()
