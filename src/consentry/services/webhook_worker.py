"""The webhook worker: fans changes out and delivers them, in the server process by default or
as `consentry worker` processes.

Deliveries are claimed in chains (one customer's changes to one endpoint, in order) and each
chain runs as its own task; each endpoint has at most ``webhook_per_endpoint`` chains in
flight, and an endpoint at its limit is not claimed from, so a slow or dead
receiver only ever holds its own slots — the others keep flowing. Claims are leases: a worker
that dies mid-request leaves a lease that runs out, and the delivery is sent again with the same
webhook-id (at least once).

The worker goes in rounds: each round records the outcomes of the chains that finished since
the last one and claims chains for the free slots, in one write transaction, then waits until
chains finish (or IDLE passes, for new changes)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import aiohttp

from consentry.services import checkpoints, webhooks
from consentry.services.hub import Hub

log = logging.getLogger("consentry.webhooks")
IDLE = 0.05  # seconds between looks when there is nothing to do
CLAIM = 500  # chains per endpoint and round at most (the endpoint's free slots limit first)
# After a chain finishes, a little longer for others to: a round (a write transaction) per
# finished chain would spend the worker's time on commits.
GATHER = 0.003

Done = tuple[list[webhooks.Outcome], list[str]]


class WebhookWorker:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="webhooks", daemon=True)
        self._inflight: dict[str, int] = {}
        self._checkpoint = ""  # set by each round that claims deliveries
        self._done: list[Done] = []

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
        tasks: set[asyncio.Task[None]] = set()
        self._finished = asyncio.Event()
        async with webhooks.session(self.hub) as client:
            while not self._stop.is_set():
                self._finished.clear()  # before the round: a chain ending during it counts
                for chain in await self._round():
                    endpoint_id = chain[0][0].endpoint_id
                    self._inflight[endpoint_id] = self._inflight.get(endpoint_id, 0) + 1
                    task = asyncio.create_task(self._deliver(client, chain, endpoint_id))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                # A round fills every free slot with what is due: the next is worth making
                # once chains finish (slots free, and their customers' next changes may go
                # once recorded), or after IDLE for new changes.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._finished.wait(), IDLE)
                await asyncio.sleep(GATHER)
            if tasks:
                await asyncio.wait(tasks, timeout=self.hub.settings.webhook_timeout_seconds)
            await self._record_last()

    async def _round(self) -> list[webhooks.Chain]:
        done, self._done = self._done, []
        try:
            if not done and not await asyncio.to_thread(webhooks.any_endpoints, self.hub):
                return []
            # Positions first (the server's background loop gives them too, every 0.2 s):
            # a change is then delivered without waiting for that loop.
            await asyncio.to_thread(self.hub.outbox.integrate_if_pending)
            await asyncio.to_thread(webhooks.dispatch, self.hub)
            claimed = await asyncio.to_thread(
                webhooks.record_and_claim, self.hub, done, CLAIM, dict(self._inflight)
            )
            if claimed:
                self._checkpoint = await asyncio.to_thread(checkpoints.recent_checkpoint, self.hub)
            return claimed
        except Exception as exc:  # a passing database error: try again shortly
            # Outcomes not recorded: those deliveries' leases run out and they are sent again.
            log.warning("webhook round failed (%s); retrying", type(exc).__name__)
            return []

    async def _record_last(self) -> None:
        done, self._done = self._done, []
        if done:
            try:
                await asyncio.to_thread(webhooks.record_many, self.hub, done)
            except Exception as exc:  # the leases run out, they are sent again
                log.warning("deliveries failed to record (%s)", type(exc).__name__)

    async def _deliver(
        self, client: aiohttp.ClientSession, chain: webhooks.Chain, endpoint_id: str
    ) -> None:
        try:
            done = await webhooks.send_chain(
                client,
                chain,
                self.hub.now_micros,
                webhooks.allowed_networks(self.hub),
                self._checkpoint,
            )
            # Appended after the await: ``self._done`` is swapped for a new list by each round.
            self._done.append(done)
        except Exception as exc:  # the lease runs out and the deliveries are tried again
            log.warning("deliveries failed (%s)", type(exc).__name__)
        finally:
            # The slot is free as soon as the sending is over. The customer's next changes
            # still wait for the outcomes to be recorded: until then these rows are
            # "delivering", and a claim never starts a chain behind an unfinished delivery.
            self._inflight[endpoint_id] -= 1
            self._finished.set()


def deliver_now(hub: Hub, rounds: int = 1) -> int:
    """Fan out and deliver what is due, in the caller's thread (tests, `consentry worker
    --once`); the number of attempts made."""

    async def run() -> int:
        made = 0
        allowed = webhooks.allowed_networks(hub)
        async with webhooks.session(hub) as client:
            for _ in range(rounds):
                webhooks.dispatch(hub)
                claimed = webhooks.claim(hub, CLAIM, {})
                if not claimed:
                    break
                checkpoint = checkpoints.recent_checkpoint(hub)
                results = await asyncio.gather(
                    *(
                        webhooks.send_chain(client, chain, hub.now_micros, allowed, checkpoint)
                        for chain in claimed
                    )
                )
                webhooks.record_many(hub, results)
                made += sum(len(outcomes) for outcomes, _ in results)
        return made

    return asyncio.run(run())
