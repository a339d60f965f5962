"""Erasure that reaches every app, on both engines: apps declare they hold customer data; an
erasure waits for each of them to confirm, names itself in the customer.erased change, and
reminds the apps that have not confirmed, once a day, until they do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from consentry.services import retention
from consentry.services.hub import Hub
from consentry.services.webhook_worker import deliver_now
from tests.helpers import make_customer, make_purpose, new_app
from tests.receiver import receiving


def test_an_erasure_waits_for_every_app_that_holds_data(client: TestClient, hub: Hub) -> None:
    now = [datetime(2026, 11, 23, 9, 0, tzinfo=UTC)]
    hub.clock = lambda: now[0]
    make_purpose(client)
    crm_id, crm = new_app(client, ["consents:read"], ["*"])
    mailer_id, mailer = new_app(client, ["consents:read"], ["newsletter"])
    _, till = new_app(client, ["consents:read"], ["newsletter"])
    for app_id in (crm_id, mailer_id):
        r = client.put(f"/v1/apps/{app_id}/data-holder", json={"holds_customer_data": True})
        assert r.status_code == 200 and r.json()["holds_customer_data"] is True
    assert (
        client.put("/v1/apps/app_none/data-holder", json={"holds_customer_data": True}).status_code
        == 404
    )
    cid = make_customer(client)
    erased = client.delete(f"/v1/customers/{cid}")
    assert erased.status_code == 202
    erasure = erased.json()["erasure"]
    assert erasure["pending_at"] == sorted([crm_id, mailer_id])
    hub.outbox.integrate_all()
    (announced,) = [
        c for c in client.get("/v1/changes").json()["changes"] if c["type"] == "customer.erased"
    ]
    assert announced["data"]["erasure"] == erasure["id"]
    assert sorted(announced["data"]["apps_to_confirm"]) == sorted([crm_id, mailer_id])
    # The mailer confirms; the till was never asked.
    r = client.post(
        f"/v1/erasures/{erasure['id']}/ack", headers={"Authorization": f"Bearer {mailer}"}
    )
    assert r.status_code == 200
    view = r.json()
    assert [d["app"] for d in view["deleted_from"]] == [mailer_id]
    assert [p["app"] for p in view["pending_at"]] == [crm_id]
    refused = client.post(
        f"/v1/erasures/{erasure['id']}/ack", headers={"Authorization": f"Bearer {till}"}
    )
    assert refused.status_code == 409
    assert client.post("/v1/erasures/era_none/ack").status_code == 404
    # The admin's list of unconfirmed erasures; a day later the CRM is reminded.
    assert [e["id"] for e in client.get("/v1/erasures").json()] == [erasure["id"]]
    now[0] += timedelta(hours=25)
    assert retention.run(hub).erasure_reminders == 1
    assert retention.run(hub).erasure_reminders == 0  # once a day
    hub.outbox.integrate_all()
    reminders = [
        c
        for c in client.get("/v1/changes").json()["changes"]
        if c["type"] == "customer.erasure_pending"
    ]
    assert reminders[0]["data"] == {"erasure": erasure["id"], "apps_to_confirm": [crm_id]}
    # Only the CRM is reminded: the mailer (confirmed) and the till (holds nothing) are not.
    for key, reminded in ((crm, True), (mailer, False), (till, False)):
        feed = client.get("/v1/changes", headers={"Authorization": f"Bearer {key}"}).json()
        types = [c["type"] for c in feed["changes"]]
        assert ("customer.erasure_pending" in types) is reminded
        assert "customer.erased" in types  # the erasure itself is every app's news
    assert (
        client.post(
            f"/v1/erasures/{erasure['id']}/ack", headers={"Authorization": f"Bearer {crm}"}
        ).status_code
        == 200
    )
    assert client.get("/v1/erasures").json() == []
    done = client.get(f"/v1/erasures/{erasure['id']}").json()
    assert done["pending_at"] == [] and len(done["deleted_from"]) == 2


def test_reminders_go_only_to_the_apps_that_must_confirm(client: TestClient, hub: Hub) -> None:
    """Webhooks: the CRM (not confirmed) gets the daily reminder; the mailer (confirmed) gets
    the erasure but no reminder."""
    now = [datetime(2026, 11, 23, 9, 0, tzinfo=UTC)]
    hub.clock = lambda: now[0]
    make_purpose(client)
    apps = {name: new_app(client, ["webhooks:manage"], ["*"]) for name in ("crm", "mailer")}
    with receiving() as crm_hook, receiving() as mailer_hook:
        for (app_id, key), hook in zip(apps.values(), (crm_hook, mailer_hook), strict=True):
            client.put(f"/v1/apps/{app_id}/data-holder", json={"holds_customer_data": True})
            r = client.post(
                "/v1/webhooks",
                json={"url": hook.url},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert r.status_code == 201
        erasure = client.delete(f"/v1/customers/{make_customer(client)}").json()["erasure"]
        client.post(
            f"/v1/erasures/{erasure['id']}/ack",
            headers={"Authorization": f"Bearer {apps['mailer'][1]}"},
        )
        now[0] += timedelta(hours=25)
        assert retention.run(hub).erasure_reminders == 1
        hub.outbox.integrate_all()
        deliver_now(hub, rounds=5)
        types = {
            name: [hit.json["type"] for hit in hook.received]
            for name, hook in (("crm", crm_hook), ("mailer", mailer_hook))
        }
        assert types["crm"] == ["customer.erased", "customer.erasure_pending"]
        assert types["mailer"] == ["customer.erased"]
