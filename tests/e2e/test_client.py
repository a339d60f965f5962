"""The Python client (`consentry.client`), sync and async, against a real `consentry serve`:
the main calls of the contract, problem documents as exceptions, Idempotency-Key on writes
(a retried write applies once), the change feed, webhook verification with a real receiver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from consentry.client import (
    AsyncConsentry,
    Consentry,
    ConsentryError,
    verify_webhook,
    webhook_checkpoint,
)
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
        # Both carry the log's checkpoint; the client checks each against the last it saw.
        assert hub.witness.size is not None
        delivered = webhook_checkpoint(hit.headers)
        assert delivered is not None and delivered.startswith("127.0.0.1")
        hub.observe_checkpoint(delivered)  # consistent with the page's, or this raises
        assert hub.witness.size >= int(delivered.split("\n")[1])


def test_the_rest_of_the_contract(server: str) -> None:
    """Every other call the client has: evidence proofs, receipts and export, apps, the
    question bank and answers, points, events and exclusions, the catalogue, offers,
    decisions and dismissals, triggers and notifications, webhooks' management, erasures."""
    with receiving() as receiver, Consentry(server, key=ADMIN_KEY) as hub:
        hub.create_purpose(NEWSLETTER)
        for purpose in ("personalisation", "profiling"):
            hub.create_purpose({**NEWSLETTER, "id": purpose, "title": purpose, "channels": []})
        crm = hub.create_app("crm", ["customers:read"], ["newsletter"])
        assert crm["id"] in [a["id"] for a in hub.list_apps()["apps"]]
        assert hub.declare_data_holder(crm["id"])["holds_customer_data"] is True

        cid = hub.create_customer()["id"]
        first = hub.record_consent(cid, GRANT)["record"]["id"]
        for purpose in ("personalisation", "profiling"):
            hub.record_consent(cid, {**GRANT, "purpose": purpose, "channel": None})
        size = hub.head()["size"]
        assert hub.inclusion_proof_at(first, size)["leaf_index"] == 0
        assert len(hub.consistency_proof(1, size)["proof"]) >= 1
        exported = hub.export_evidence()
        assert isinstance(exported, str) and len(exported.splitlines()) == size
        assert hub.receipt(first).count(".") == 2  # a compact JWS

        question = {
            "id": "runner",
            "text": "Do you run?",
            "kind": "yes_no",
            "topic": "sport",
            "stage": 1,
            "points": 10,
            "channels": ["web"],
        }
        hub.create_question(question)
        hub.replace_question("runner", {**question, "text": "Do you go running?"})
        assert hub.get_question("runner")["text"] == {"en": "Do you go running?"}
        assert [q["id"] for q in hub.list_questions()["questions"]] == ["runner"]
        actor = {"type": "customer"}
        hub.answer(cid, {"question": "runner", "value": True, "channel": "web", "actor": actor})
        assert hub.answers(cid)["answers"][0]["value"] is True
        assert hub.points(cid)["balance"] == 10
        assert hub.redeem_points(cid, 5, "a voucher")["balance"] == 5
        assert hub.delete_answer(cid, "runner") is None
        hub.decline(cid, "runner", "web", actor)
        assert hub.set_asking(cid, False)["asking"] is False
        assert hub.asking(cid)["asking"] is False
        hub.set_asking(cid, True)
        hub.retire_question("runner")

        hub.replace_catalogue(
            {
                "categories": [{"path": "sport", "name": "Sport"}],
                "sensitive_topics": [],
                "products": [{"sku": "SHOE", "name": "shoes", "category": "sport"}],
            }
        )
        assert [c["path"] for c in hub.categories()] == ["sport"]
        offer = {"id": "club", "title": "Join the running club", "category": "sport"}
        hub.create_offer({**offer, "channels": ["email"], "everyone": True})
        hub.replace_offer("club", {**offer, "channels": ["in_app", "store"], "everyone": True})
        assert hub.get_offer("club")["channels"] == ["in_app", "store"]
        assert [o["id"] for o in hub.list_offers()["offers"]] == ["club"]
        chosen = hub.decide(cid, "in_app")
        assert [o["id"] for o in chosen["offers"]] == ["club"]
        assert hub.decisions(cid)[0]["id"] == chosen["id"]
        assert hub.dismiss_offer(cid, "club")["dismissed"] is True
        assert hub.decide(cid, "in_app")["offers"] == []
        hub.dismiss_offer(cid, "club", dismissed=False)

        visit = {
            "id": "visit-desk",
            "on": "store_visit",
            "then": [{"notify": "desk"}],
        }
        hub.replace_triggers({"triggers": [visit]})
        assert [t["id"] for t in hub.triggers()] == ["visit-desk"]
        event = {"customer": cid, "type": "store_visit", "store": "london", "time": _now()}
        hub.send_events([event])
        (note,) = hub.notifications("desk", store="london")["notifications"]
        assert hub.notification_done(note["id"])["status"] == "done"
        (visited,) = hub.customer_events(cid)
        assert hub.exclude_event(cid, visited["id"])["excluded"] is True
        hub.retire_offer("club")

        endpoint = hub.create_webhook(receiver.url)
        assert [e["id"] for e in hub.list_webhooks()] == [endpoint["id"]]
        assert hub.get_webhook(endpoint["id"])["active"] is True
        assert hub.enable_webhook(endpoint["id"])["active"] is True
        hub.record_consent(cid, {**GRANT, "action": "withdraw"})
        deadline = time.monotonic() + 10
        while not hub.webhook_deliveries(endpoint["id"], status="delivered"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (delivered, *_) = hub.webhook_deliveries(endpoint["id"], status="delivered")
        assert hub.redeliver(endpoint["id"], delivered["id"])["status"] == "pending"

        erasure = hub.erase_customer(cid)
        erasure_id = erasure["erasure"]["id"]
        assert erasure_id in [e["id"] for e in hub.erasures()]
        assert [a["app"] for a in hub.get_erasure(erasure_id)["pending_at"]] == [crm["id"]]
        assert hub.delete_webhook(endpoint["id"])["deleted"] is True


def _now() -> str:
    return datetime.now(UTC).isoformat()


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
            assert hub.witness.size is not None
            assert hub.witness.size >= int(page["checkpoint"].split("\n")[1])

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
