"""The contract change of issue 24: an Idempotency-Key reused with another body is 422 (as
draft-ietf-httpapi-idempotency-key-header says); while the first request with a key is
still being processed, another with it is 409 with Retry-After, and the client retries it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from consentry.services import idempotency
from consentry.services.hub import Hub
from tests.conftest import ADMIN_KEY
from tests.helpers import GRANT, make_customer, make_purpose


def _admin_app_id(hub: Hub) -> str:
    from consentry.services import apps

    return apps.ensure_admin(hub, ADMIN_KEY)


def test_another_body_with_the_same_key_is_422(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    headers = {"Idempotency-Key": "till-9-1"}
    assert (
        client.post(f"/v1/customers/{cid}/consents", json=GRANT, headers=headers).status_code == 201
    )
    other = client.post(
        f"/v1/customers/{cid}/consents", json={**GRANT, "channel": "sms"}, headers=headers
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


def test_a_key_being_processed_in_this_process_is_409(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    mine = (_admin_app_id(hub), "till-9-2")
    idempotency._in_flight.add(mine)  # the first request is being answered right now
    try:
        busy = client.post(
            f"/v1/customers/{cid}/consents", json=GRANT, headers={"Idempotency-Key": mine[1]}
        )
    finally:
        idempotency._in_flight.discard(mine)
    assert busy.status_code == 409 and busy.headers["retry-after"] == "1"
    assert busy.json()["type"].endswith("/idempotency-in-progress")
    assert client.get(f"/v1/customers/{cid}/consents/history").json()["records"] == []
    done = client.post(
        f"/v1/customers/{cid}/consents", json=GRANT, headers={"Idempotency-Key": mine[1]}
    )
    assert done.status_code == 201


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_key_being_processed_by_another_process_is_409(hub: Hub, client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    app_id = _admin_app_id(hub)
    with hub.db.engine.connect() as other_process, other_process.begin():
        other_process.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 7))"),
            {"k": f"idempotency:{app_id}:till-9-3"},
        )
        busy = client.post(
            f"/v1/customers/{cid}/consents", json=GRANT, headers={"Idempotency-Key": "till-9-3"}
        )
        assert busy.status_code == 409 and busy.json()["type"].endswith("/idempotency-in-progress")
    done = client.post(
        f"/v1/customers/{cid}/consents", json=GRANT, headers={"Idempotency-Key": "till-9-3"}
    )
    assert done.status_code == 201
