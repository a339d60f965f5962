"""Real-time checks that arrive together on one event loop are read together.

A check on PostgreSQL costs a round trip and a statement on the server; under load most of a
check's time went there (about 65 µs of the server's CPU and as much of the client's, each
check). Checks whose requests were parsed in the same turn of the event loop wait, each on its
own future, until the loop has run them all; then one statement reads for all of them
(``CheckReader.read_many``) and each gets its own answer or error. No check waits for a timer
or for checks that have not arrived: a lone check is read at once, as before. Each still reads
the state committed when it is read, so a withdrawal is seen by the next check as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

from consentry.services import checks
from consentry.services.hub import Hub

Waiting = list[tuple[checks.Question, asyncio.Future[dict[str, Any]]]]


class CheckBatch:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        # Per event loop: a test client and a server may run loops in different threads.
        self._waiting: dict[asyncio.AbstractEventLoop, Waiting] = {}

    async def check(self, question: checks.Question) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        waiting = self._waiting.get(loop)
        if waiting is None:
            # Called after the callbacks already due in this turn: the other requests parsed
            # with this one join it first.
            loop.call_soon(self._read, loop)
            waiting = self._waiting[loop] = []
        waiting.append((question, future))
        return await future

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        waiting = self._waiting.pop(loop)
        try:
            answers = checks.check_many(self.hub, [question for question, _ in waiting])
        except Exception as exc:  # the read itself failed (say the database went away)
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), answer in zip(waiting, answers, strict=True):
            if future.done():  # the request was given up (the client went away)
                continue
            if isinstance(answer, Exception):
                future.set_exception(answer)
            else:
                future.set_result(answer)
