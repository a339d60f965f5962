"""Real-time checks on PostgreSQL are read in batches, one statement each, off the event loop's
critical path.

A check on PostgreSQL costs a round trip and a statement on the server; under load most of a
check's time went there (about 65 µs of the server's CPU and as much of the client's, each
check), and the event loop stood still during each round trip. Now each event loop has at most
one read in flight, on its own asynchronous connection: checks that arrive while it is out wait
on their futures and go together in the next read (``CheckReader.read_many_async``), each with
its own answer or error. A lone check is read at once; no check waits for a timer. Each read
sees the state committed when it is made, so a withdrawal is seen by the next check, as before.

On SQLite (in process: no round trip, no one to wait for) each check reads on its own.
"""

from __future__ import annotations

import asyncio
from typing import Any

from consentry.domain.access import RegisteredApp
from consentry.domain.checks import CheckFacts, CheckQuestion
from consentry.services import checks
from consentry.services.hub import Hub

Waiting = list[tuple[CheckQuestion, asyncio.Future[CheckFacts]]]


class CheckBatch:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # Per event loop: a test client and a server may run loops in different threads.
        self._waiting: dict[asyncio.AbstractEventLoop, Waiting] = {}
        self._reading: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}

    async def check(self, question: checks.Question) -> dict[str, Any]:
        if not self.hub.db.is_postgres:
            return checks.check(self.hub, *question)
        return await checks.check_async(self.hub, question, self.read)

    async def app(self, key_hash: str) -> RegisteredApp | None:
        """The app holding a key: every request's authentication. On PostgreSQL it is read
        with the checks, as a question about no customer and no purpose, so that a write
        request does not hold up the event loop for a round trip either."""
        if not self.hub.db.is_postgres:
            return self.hub.checks.app(key_hash)
        return (await self.read((key_hash, "", "", None))).app

    async def read(self, question: CheckQuestion) -> CheckFacts:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[CheckFacts] = loop.create_future()
        self._waiting.setdefault(loop, []).append((question, future))
        if loop not in self._reading:
            # The reader's first step runs after the steps already due in this turn: the
            # other requests parsed with this one join its first read.
            self._reading[loop] = loop.create_task(self._read(loop))
        return await future

    async def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            while waiting := self._waiting.pop(loop, None):
                try:
                    reads = await self.hub.checks.read_many_async([q for q, _ in waiting])
                except Exception as exc:  # the read itself failed (the database went away)
                    for _, future in waiting:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), read in zip(waiting, reads, strict=True):
                    if not future.done():  # else the request was given up (client went away)
                        future.set_result(read)
        finally:
            del self._reading[loop]

    async def close(self) -> None:
        """On the server's shutdown, on its loop."""
        await self.hub.checks.close_async()
