"""An optional mirror of the outbox onto NATS JetStream, for deployments that already run it.

Off unless ``CONSENTRY_NATS_URL`` is set. Every sequenced change is published to
``consentry.<type>`` (``consentry.consent.changed``, ``consentry.customer.erased``…) with the
header ``Nats-Msg-Id: msg_<position>``, so JetStream's de-duplication drops a message published
twice (after a crash between publishing and saving the place). The place is saved after the
stream acknowledged the messages: at least once, in order.
"""

from __future__ import annotations

import asyncio
import logging
import threading

import nats
import orjson
from nats.js.errors import NotFoundError

from consentry.domain.clock import rfc3339_micros
from consentry.services.hub import Hub
from consentry.store import mirror_positions as positions
from consentry.store import outbox

log = logging.getLogger("consentry.nats")
NAME = "nats"
STREAM = "CONSENTRY"
BATCH = 1000


def _place(hub: Hub) -> int:
    with hub.db.read() as conn:
        return positions.place(conn, NAME)


def _save(hub: Hub, position: int) -> None:
    with hub.db.write() as conn:
        positions.set_place(conn, NAME, position)


async def publish_pending(hub: Hub, url: str) -> int:
    """Publish every sequenced change not yet mirrored; how many were published."""
    client = await nats.connect(url, connect_timeout=5)
    try:
        js = client.jetstream()
        try:
            await js.stream_info(STREAM)
        except NotFoundError:
            await js.add_stream(name=STREAM, subjects=["consentry.>"])
        published = 0
        while True:
            position = _place(hub)
            with hub.db.read() as conn:
                bound = outbox.last_position(conn)
                rows = outbox.after(conn, position, bound, BATCH, None)
            if not rows:
                return published
            for row in rows:
                body = orjson.dumps(
                    {
                        "type": row.type,
                        "timestamp": rfc3339_micros(row.created_at),
                        "data": {
                            "customer": row.subject,
                            "purpose": row.purpose,
                            "position": row.position,
                            **row.body,
                        },
                    }
                )
                await js.publish(
                    f"consentry.{row.type}", body, headers={"Nats-Msg-Id": f"msg_{row.position}"}
                )
            _save(hub, rows[-1].position)
            published += len(rows)
    finally:
        await client.close()


class NatsMirror:
    """Runs ``publish_pending`` every half second in its own thread (the server, when
    ``CONSENTRY_NATS_URL`` is set)."""

    def __init__(self, hub: Hub, url: str) -> None:
        self.hub = hub
        self.url = url
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="nats-mirror", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                asyncio.run(publish_pending(self.hub, self.url))
            except Exception as exc:  # NATS down: try again next time, nothing is lost
                log.warning("NATS mirror: %s", type(exc).__name__)
