"""The Python client (`consentry.client`), sync and async, against a real `consentry serve`:
the main calls of the contract, problem documents as exceptions, Idempotency-Key on writes
(a retried write applies once), the change feed, webhook verification with a real receiver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from consentry.client import AsyncConsentry, Consentry, ConsentryError, verify_webhook
from tests.conftest import ADMIN_KEY
from tests.helpers import GRANT, NEWSLETTER
from tests.receiver import receiving
from tests.servers import serving


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    env = {
        "CONSENTRY_DATA_DIR": str(tmp_path / "data"),
        "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
        "CONSENTRY_DATABASE_URL": "",
        "CONSENTRY_CHECK_CACHE_MB": "16",
    }
    with serving(env) as base:
        yield base


def test_the_sync_client(server: str) -> None:
    with receiving() as receiver, Consentry(server, key=ADMIN_KEY) as hub:
        hub.create_purpose(NEWSLETTER)
        endpoint = hub.create_webhook(receiver.url, types=["consent.changed"])
        cid = hub.create_customer({"identifiers": {"email": "Ann@Example.com"}})["id"]
        assert hub.lookup_customer(email="ann@example.com")["id"] == cid
        changed = hub.record_consent(cid, GRANT, idempotency_key="till-1")
        again = hub.record_consent(cid, GRANT, idempotency_key="till-1")  # a retry: applied once
        assert again["record"]["id"] == changed["record"]["id"]
        assert len(hub.history(cid)["records"]) == 1
        assert hub.check(cid, "newsletter", "email")["allowed"] is True
        assert hub.check_batch([cid], "newsletter", "email")["allowed"] == [cid]
        record = changed["record"]["id"]
        with pytest.raises(ConsentryError) as refused:
            hub.record_consent(cid, {**GRANT, "purpose": "nope"})
        assert refused.value.status == 422 and "nope" in refused.value.detail
        with pytest.raises(ConsentryError) as missing:
            hub.get_customer("cus_nobody")
        assert missing.value.status == 404
        # The feed: the grant is there.
        deadline = time.monotonic() + 5
        pages = hub.iter_pages(wait=1)
        seen: list[dict[str, object]] = []
        while not seen and time.monotonic() < deadline:
            seen = next(pages)["changes"]
        assert seen[0]["type"] == "consent.changed" and seen[0]["customer"] == cid
        # The webhook: verified with the helper, the secret shown at registration.
        while not receiver.received and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        hit = receiver.received[0]
        body = verify_webhook(endpoint["secret"], hit.body, hit.headers)
        assert body["data"]["record_id"] == record
        with pytest.raises(Exception, match="signature"):
            verify_webhook("whsec_" + "B" * 43, hit.body, hit.headers)


def test_the_async_client(server: str) -> None:
    async def journey() -> None:
        async with AsyncConsentry(server, key=ADMIN_KEY) as hub:
            await hub.create_purpose(NEWSLETTER)
            cid = (await hub.create_customer())["id"]
            await hub.record_consent(cid, GRANT)
            await hub.record_consent(cid, {**GRANT, "action": "withdraw"})
            assert (await hub.check(cid, "newsletter", "email"))["reason"] == "withdrawn"
            erased = await hub.erase_customer(cid)
            assert erased["status"] == "erased"
            with pytest.raises(ConsentryError) as gone:
                await hub.get_customer(cid)
            assert gone.value.status == 410
            async for page in hub.iter_pages(wait=2):
                if any(c["type"] == "customer.erased" for c in page["changes"]):
                    break

    asyncio.run(asyncio.wait_for(journey(), timeout=30))


def test_retries_on_unavailable_then_succeeds() -> None:
    """A real local server that answers 503 twice, then 200: the client retries the write
    with the same Idempotency-Key."""
    with receiving(status=503) as flaky:

        def recover() -> None:
            while len(flaky.received) < 2:
                time.sleep(0.01)
            flaky.status = 200

        import threading

        threading.Thread(target=recover, daemon=True).start()
        base = flaky.url.removesuffix("/hook")
        with Consentry(base, key="k") as hub:
            assert hub.create_customer() is None  # the stand-in answers 200 with no body
        keys = [r.headers["idempotency-key"] for r in flaky.received]
        assert len(keys) == 3 and len(set(keys)) == 1  # the same key on every retry
        flaky.status = 400
        with pytest.raises(ConsentryError) as refused, Consentry(base, key="k") as hub:
            hub.create_customer()
        assert refused.value.status == 400 and len(flaky.received) == 4  # no retry on 4xx
