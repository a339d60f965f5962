"""The optional NATS JetStream mirror, against the local NATS server (127.0.0.1:4222): every
change published once to consentry.<type>, in order, a re-publish dropped by JetStream's
de-duplication (Nats-Msg-Id), the place kept across runs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket

import nats
import orjson
import pytest
from fastapi.testclient import TestClient
from nats.js.errors import NotFoundError

from consentry.services.hub import Hub
from consentry.services.nats_mirror import NAME, STREAM, publish_pending
from consentry.store.tables import mirror_positions
from tests.helpers import change, make_customer, make_purpose

URL = os.environ.get("CONSENTRY_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def nats_server() -> str:
    if not _reachable():
        if os.environ.get("CI"):
            pytest.fail("NATS is not reachable at 127.0.0.1:4222 under CI", pytrace=False)
        pytest.skip("no local NATS server")

    async def clean() -> None:
        client = await nats.connect(URL)
        with contextlib.suppress(NotFoundError):
            await client.jetstream().delete_stream(STREAM)
        await client.close()

    asyncio.run(clean())
    return URL


async def _stream(url: str) -> list[tuple[str, dict[str, object], str]]:
    client = await nats.connect(url)
    js = client.jetstream()
    info = await js.stream_info(STREAM)
    out = []
    for seq in range(1, info.state.messages + 1):
        message = await js.get_msg(STREAM, seq)
        headers = message.headers or {}
        out.append((message.subject, orjson.loads(message.data), headers.get("Nats-Msg-Id", "")))
    await client.close()
    return out


def test_changes_are_mirrored_once_in_order(client: TestClient, hub: Hub, nats_server: str) -> None:
    make_purpose(client)
    cid = make_customer(client)
    change(client, cid)
    change(client, cid, "withdraw")
    assert client.delete(f"/v1/customers/{cid}").status_code == 202
    hub.outbox.integrate_all()
    assert asyncio.run(publish_pending(hub, nats_server)) == 3
    assert asyncio.run(publish_pending(hub, nats_server)) == 0  # the place is kept
    messages = asyncio.run(_stream(nats_server))
    assert [(s, m) for s, _, m in messages] == [
        ("consentry.consent.changed", "msg_1"),
        ("consentry.consent.changed", "msg_2"),
        ("consentry.customer.erased", "msg_3"),
    ]
    assert [body["data"].get("action") for _, body, _ in messages[:2]] == ["grant", "withdraw"]
    # A crash after publishing but before saving the place: published again, dropped by NATS.
    with hub.db.write() as conn:
        conn.execute(mirror_positions.delete().where(mirror_positions.c.name == NAME))
    assert asyncio.run(publish_pending(hub, nats_server)) == 3
    assert len(asyncio.run(_stream(nats_server))) == 3
