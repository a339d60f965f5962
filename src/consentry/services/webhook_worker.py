"""The webhook worker: fans changes out and delivers them, in the server process by default or
as `consentry worker` processes.

Deliveries are claimed in chains (one customer's changes to one endpoint, in order) and each
chain runs as its own task; each endpoint has at most ``webhook_per_endpoint`` chains in
flight, and an endpoint at its limit is not claimed from, so a slow or dead
receiver only ever holds its own slots — the others keep flowing. Claims are leases: a worker
that dies mid-request leaves a lease that runs out, and the delivery is sent again with the same
webhook-id (at least once)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import httpx

from consentry.services import webhooks
from consentry.services.hub import Hub

log = logging.getLogger("consentry.webhooks")
IDLE = 0.05  # seconds between looks when there is nothing to do
CLAIM = 500
RECORD_EVERY = 0.01


class WebhookWorker:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="webhooks", daemon=True)
        self._inflight: dict[str, int] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def run_forever(self) -> None:
        """For `consentry worker`: run in this thread until interrupted."""
        asyncio.run(self._loop())

    def _main(self) -> None:
        asyncio.run(self._loop())

    async def _loop(self) -> None:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=200)
        timeout = httpx.Timeout(self.hub.settings.webhook_timeout_seconds)
        tasks: set[asyncio.Task[None]] = set()
        self._done: list[tuple[str, list[Any], list[str]]] = []
        recorder = asyncio.create_task(self._record_loop())
        async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
            while not self._stop.is_set():
                try:
                    await asyncio.to_thread(webhooks.dispatch, self.hub)
                    claimed = await asyncio.to_thread(
                        webhooks.claim, self.hub, CLAIM, dict(self._inflight)
                    )
                except Exception as exc:  # a passing database error: try again shortly
                    log.warning("webhook round failed (%s); retrying", type(exc).__name__)
                    claimed = []
                for chain in claimed:
                    endpoint_id = chain[0][0].endpoint_id
                    self._inflight[endpoint_id] = self._inflight.get(endpoint_id, 0) + 1
                    task = asyncio.create_task(self._deliver(client, chain, endpoint_id))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                if not claimed:
                    await asyncio.sleep(IDLE)
            if tasks:
                await asyncio.wait(tasks, timeout=self.hub.settings.webhook_timeout_seconds)
            await self._record_now()
            recorder.cancel()

    async def _deliver(
        self, client: httpx.AsyncClient, chain: list[tuple[Any, str, str]], endpoint_id: str
    ) -> None:
        try:
            outcomes, untried = await webhooks.send_chain(client, chain, self.hub.now_micros)
        except Exception as exc:  # the lease runs out and the deliveries are tried again
            log.warning("deliveries failed (%s)", type(exc).__name__)
            self._inflight[endpoint_id] -= 1
            return
        self._done.append((endpoint_id, outcomes, untried))

    async def _record_loop(self) -> None:
        """Outcomes are written together, every few milliseconds, in one transaction: on
        SQLite a transaction per delivery would spend the time on fsyncs."""
        while True:
            await asyncio.sleep(RECORD_EVERY)
            await self._record_now()

    async def _record_now(self) -> None:
        done, self._done = self._done, []
        if not done:
            return
        try:
            await asyncio.to_thread(webhooks.record_many, self.hub, [(o, u) for _, o, u in done])
        except Exception as exc:  # not recorded: the leases run out, they are sent again
            log.warning("deliveries failed to record (%s)", type(exc).__name__)
        finally:
            # Only now may the same customers' next changes go: the claim reads these rows.
            for endpoint_id, _, _ in done:
                self._inflight[endpoint_id] -= 1


def deliver_now(hub: Hub, rounds: int = 1) -> int:
    """Fan out and deliver what is due, in the caller's thread (tests, `consentry worker
    --once`); the number of attempts made."""

    async def run() -> int:
        made = 0
        timeout = httpx.Timeout(hub.settings.webhook_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout) as client:
            for _ in range(rounds):
                webhooks.dispatch(hub)
                claimed = webhooks.claim(hub, CLAIM, {})
                if not claimed:
                    break
                results = await asyncio.gather(
                    *(webhooks.send_chain(client, chain, hub.now_micros) for chain in claimed)
                )
                webhooks.record_many(hub, results)
                made += sum(len(outcomes) for outcomes, _ in results)
        return made

    return asyncio.run(run())
