"""Webhooks on both engines, to a real local HTTP receiver: signed per Standard Webhooks,
retried with back-off and the same webhook-id, in per-customer order, dead-lettered after three
days, endpoints disabled after failing for days and enabled again, redelivery, filters by type
and purpose; a slow receiver does not delay a fast one; two workers deliver each change once."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from consentry.services.hub import Hub
from consentry.services.webhook_worker import WebhookWorker, deliver_now
from consentry.services.webhooks import CHAIN
from tests.helpers import change, make_customer, make_purpose, new_app
from tests.receiver import Received, receiving

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock(hub: Hub) -> list[datetime]:
    now = [NOW]
    hub.clock = lambda: now[0]
    return now


def _endpoint(client: TestClient, url: str, key: str | None = None, **body: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    r = client.post("/v1/webhooks", json={"url": url, **body}, headers=headers)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _signed_right(hit: Received, secret: str) -> bool:
    """The signature as Standard Webhooks defines it (the test clock is not the wall clock, so
    the timestamp is checked against the header rather than against now)."""
    moment = datetime.fromtimestamp(int(hit.headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(hit.headers["webhook-id"], moment, hit.body.decode())
    return expected in hit.headers["webhook-signature"].split(" ")


def _settle(hub: Hub) -> int:
    hub.outbox.integrate_all()
    return deliver_now(hub, rounds=20)


def test_a_change_is_delivered_signed(client: TestClient, hub: Hub, clock: list[datetime]) -> None:
    make_purpose(client)
    with receiving() as receiver:
        created = _endpoint(client, receiver.url, description="CRM")
        assert created["secret"].startswith("whsec_")
        assert "secret" not in client.get(f"/v1/webhooks/{created['id']}").json()
        cid = make_customer(client)
        assert change(client, cid).status_code == 201
        assert _settle(hub) == 1
        (hit,) = receiver.received
        assert hit.headers["webhook-id"] == "msg_1"
        assert hit.headers["content-type"] == "application/json"
        assert _signed_right(hit, created["secret"])
        assert not _signed_right(hit, "whsec_" + "A" * 43)
        event = hit.json
        assert event["type"] == "consent.changed"
        assert event["data"]["customer"] == cid and event["data"]["action"] == "grant"
        (log,) = client.get(f"/v1/webhooks/{created['id']}/deliveries").json()
        assert log["status"] == "delivered" and log["last_status_code"] == 200
        assert log["webhook_id"] == "msg_1" and log["last_duration_ms"] is not None
        assert client.get(f"/v1/webhooks/{created['id']}").json()["deliveries"] == {"delivered": 1}


def test_the_first_endpoint_gets_the_changes_made_after_it(
    client: TestClient, hub: Hub, clock: list[datetime]
) -> None:
    """Workers do not fan out while no endpoint exists (their rounds end after one look);
    the first endpoint starts from what is sequenced after it, not from a backlog."""
    make_purpose(client)
    before = make_customer(client)
    assert change(client, before).status_code == 201
    hub.outbox.integrate_all()
    worker = WebhookWorker(hub)
    worker.start()  # in its own thread, as in the server
    try:
        time.sleep(0.3)  # several rounds with nothing to deliver to
        with receiving() as receiver:
            _endpoint(client, receiver.url)
            after = make_customer(client)
            assert change(client, after).status_code == 201
            deadline = time.monotonic() + 10
            while not receiver.received and time.monotonic() < deadline:
                time.sleep(0.02)
            time.sleep(0.2)  # time for a wrong delivery of the earlier change to show up
            assert [hit.json["data"]["customer"] for hit in receiver.received] == [after]
    finally:
        worker.stop()


def test_failures_are_retried_with_the_same_id_in_customer_order(
    client: TestClient, hub: Hub, clock: list[datetime]
) -> None:
    make_purpose(client)
    with receiving(status=500) as receiver:
        endpoint = _endpoint(client, receiver.url)
        ann, bob = make_customer(client), make_customer(client)
        change(client, ann)
        change(client, ann, "withdraw")
        _settle(hub)
        # Only Ann's first change was tried: her second waits behind it.
        assert receiver.ids() == ["msg_1"]
        log = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()
        first = next(d for d in log if d["webhook_id"] == "msg_1")
        assert first["status"] == "pending" and first["attempts"] == 1
        assert first["last_status_code"] == 500 and first["last_error"] == "HTTP 500"
        due = datetime.fromisoformat(first["next_attempt_at"])
        assert timedelta(seconds=3) < due - NOW < timedelta(seconds=7)  # 5 s, with jitter
        change(client, bob)  # Bob is not held up by Ann
        receiver.status = 200
        _settle(hub)
        assert receiver.ids() == ["msg_1", "msg_3"]
        clock[0] += timedelta(seconds=10)
        _settle(hub)
        assert receiver.ids() == ["msg_1", "msg_3", "msg_1", "msg_2"]
        actions = [
            r.json["data"]["action"] for r in receiver.received if r.json["data"]["customer"] == ann
        ]
        assert actions == ["grant", "grant", "withdraw"]


def test_dead_letters_disabling_and_redelivery(
    client: TestClient, hub: Hub, clock: list[datetime]
) -> None:
    make_purpose(client)
    with receiving(status=503) as receiver:
        endpoint = _endpoint(client, receiver.url)
        cid = make_customer(client)
        change(client, cid)
        for _ in range(48):  # four days, tried whenever due: three days of back-off, then dead
            _settle(hub)
            clock[0] += timedelta(hours=2)
        log = client.get(f"/v1/webhooks/{endpoint['id']}/deliveries").json()
        assert log[0]["status"] == "dead" and log[0]["attempts"] >= 10
        assert client.get(f"/v1/webhooks/{endpoint['id']}").json()["active"] is True
        # Still failing on the sixth day: the endpoint is disabled, with the reason.
        change(client, cid, "withdraw")
        _settle(hub)
        clock[0] += timedelta(days=1, hours=6)
        _settle(hub)
        health = client.get(f"/v1/webhooks/{endpoint['id']}").json()
        assert health["active"] is False and "HTTP 503" in health["disabled_reason"]
        # Disabled: new changes wait for it (nothing is lost), nothing is tried.
        change(client, cid)
        tried = len(receiver.received)
        clock[0] += timedelta(hours=12)
        _settle(hub)
        assert len(receiver.received) == tried
        assert client.get(f"/v1/webhooks/{endpoint['id']}").json()["deliveries"] == {
            "dead": 1,
            "pending": 2,
        }
        # Fixed and enabled again: the dead one redelivered with its webhook-id, all in order.
        receiver.status = 200
        assert client.post(f"/v1/webhooks/{endpoint['id']}/enable").json()["active"] is True
        r = client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/{log[0]['id']}/redeliver")
        assert r.status_code == 200 and r.json()["status"] == "pending"
        _settle(hub)
        assert receiver.ids()[-3:] == ["msg_1", "msg_2", "msg_3"]
        assert client.get(f"/v1/webhooks/{endpoint['id']}").json()["deliveries"] == {"delivered": 3}
        missing = client.post(f"/v1/webhooks/{endpoint['id']}/deliveries/dlv_none/redeliver")
        assert missing.status_code == 404


def test_filters_by_type_and_purpose(client: TestClient, hub: Hub, clock: list[datetime]) -> None:
    make_purpose(client)
    make_purpose(client, id="partner_offers", channels=["email"])
    _, mailer = new_app(client, ["webhooks:manage"], ["newsletter"])
    with receiving() as all_of_newsletter, receiving() as erasures:
        _endpoint(client, all_of_newsletter.url, key=mailer)
        _endpoint(client, erasures.url, types=["customer.erased"])
        refused = client.post(
            "/v1/webhooks",
            json={"url": erasures.url, "purposes": ["partner_offers"]},
            headers={"Authorization": f"Bearer {mailer}"},
        )
        assert refused.status_code == 422
        cid = make_customer(client)
        change(client, cid)
        change(client, cid, purpose="partner_offers")
        assert client.delete(f"/v1/customers/{cid}").status_code == 202
        _settle(hub)
        assert [r.json["type"] for r in all_of_newsletter.received] == [
            "consent.changed",
            "customer.erased",
        ]
        assert all_of_newsletter.received[0].json["data"]["purpose"] == "newsletter"
        assert [r.json["type"] for r in erasures.received] == ["customer.erased"]
    bad = client.post("/v1/webhooks", json={"url": "not a url"})
    assert bad.status_code == 422
    assert (
        client.post("/v1/webhooks", json={"url": "http://x", "types": ["nope"]}).status_code == 422
    )


def test_a_slow_receiver_does_not_delay_a_fast_one(client: TestClient, hub: Hub) -> None:
    """A receiver taking 5 s a request holds only its own 4 slots: the other endpoint gets all
    40 changes long before the slow one has answered even its first."""
    make_purpose(client)
    hub.settings.webhook_per_endpoint = 4
    with receiving(delay=5.0) as slow, receiving() as fast:
        _endpoint(client, slow.url)
        fast_endpoint = _endpoint(client, fast.url)
        for _ in range(40):
            change(client, make_customer(client))
        hub.outbox.integrate_all()
        worker = WebhookWorker(hub)
        started = time.monotonic()
        worker.start()
        try:
            while len(fast.received) < 40 and time.monotonic() - started < 20:
                time.sleep(0.02)
            fast_done = time.monotonic() - started
            assert len(fast.received) == 40
            assert fast_done < 4.5, fast_done  # never waited for a 5 s answer
            assert len(slow.received) <= 4  # its slots, nothing more
            for hit in fast.received:  # real time here: the library's own check applies
                Webhook(fast_endpoint["secret"]).verify(hit.body, hit.headers)
        finally:
            worker.stop()


def test_the_worker_delivers_long_histories_in_order(client: TestClient, hub: Hub) -> None:
    """Customers with fewer and more changes than one chain takes (a customer's chains follow
    each other only once the one before is recorded, while others' chains come and go),
    delivered by the running worker, each in order, every delivery recorded as delivered."""
    make_purpose(client)
    with receiving() as receiver:
        endpoint = _endpoint(client, receiver.url)
        counts = [1, 4, CHAIN + 1, 2 * CHAIN + 3, 3 * CHAIN + 3]
        customers = [make_customer(client) for _ in counts]
        for n in range(max(counts)):
            for cid, count in zip(customers, counts, strict=True):
                if n < count:
                    change(client, cid, "grant" if n % 2 == 0 else "withdraw")
        hub.outbox.integrate_all()
        worker = WebhookWorker(hub)
        worker.start()
        health: dict[str, int] = {}
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                health = client.get(f"/v1/webhooks/{endpoint['id']}").json()["deliveries"]
                if health == {"delivered": sum(counts)}:
                    break
                time.sleep(0.02)
        finally:
            worker.stop()
        assert health == {"delivered": sum(counts)}
        for cid, count in zip(customers, counts, strict=True):
            positions = [
                r.json["data"]["position"]
                for r in receiver.received
                if r.json["data"]["customer"] == cid
            ]
            assert len(positions) == count and positions == sorted(positions)


def test_two_workers_never_take_the_same_delivery(
    client: TestClient, hub: Hub, settings: Any
) -> None:
    make_purpose(client)
    other = Hub.open(settings)
    with receiving() as receiver:
        _endpoint(client, receiver.url)
        for _ in range(60):
            change(client, make_customer(client))
        hub.outbox.integrate_all()
        workers = [WebhookWorker(hub), WebhookWorker(other)]
        for w in workers:
            w.start()
        try:
            deadline = time.monotonic() + 20
            while len(receiver.received) < 60 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(0.3)
        finally:
            for w in workers:
                w.stop()
            other.close()
        ids = receiver.ids()
        with hub.db.read() as conn:
            rows = conn.exec_driver_sql(
                "SELECT position, status, attempts, last_status_code, last_error "
                "FROM webhook_deliveries ORDER BY position"
            ).all()
        seen = f"deliveries: {[tuple(r) for r in rows if r[2] != 1 or r[1] != 'delivered']}"
        assert sorted(set(ids)) == sorted(f"msg_{n}" for n in range(1, 61)), seen
        # No delivery was taken by both workers: every arrival is an attempt one of them
        # recorded. (An attempt recorded as failed, say a response slower than the timeout on
        # a loaded machine, is sent again: at least once, as webhooks are; receivers dedupe
        # by webhook-id.)
        assert len(ids) == sum(r[2] for r in rows), seen
        assert all(r[1] == "delivered" for r in rows), seen
