"""PostgreSQL dropping every connection (a restart, a failover): the API says 503 with
Retry-After rather than 500, a retried write with its Idempotency-Key is applied once, and
the next requests work on new connections."""

from __future__ import annotations

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.helpers import GRANT, make_customer, make_purpose


def _drop_every_connection(database_url: str) -> int:
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(row[0]) if row else 0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no connection
def test_a_write_on_a_dropped_connection_is_503_and_its_retry_applies_once(
    client: TestClient, database_url: str
) -> None:
    make_purpose(client)
    cid = make_customer(client)
    assert _drop_every_connection(database_url) >= 1
    headers = {"Idempotency-Key": "till-7-0042"}
    first = client.post(f"/v1/customers/{cid}/consents", json=GRANT, headers=headers)
    assert first.status_code == 503, first.text
    assert first.headers["content-type"] == "application/problem+json"
    assert first.headers["retry-after"] == "1"
    assert first.json()["type"].endswith("/database-unavailable")
    again = client.post(f"/v1/customers/{cid}/consents", json=GRANT, headers=headers)
    assert again.status_code == 201, again.text
    replay = client.post(f"/v1/customers/{cid}/consents", json=GRANT, headers=headers)
    assert replay.json()["record"]["id"] == again.json()["record"]["id"]
    history = client.get(f"/v1/customers/{cid}/consents/history").json()["records"]
    assert len(history) == 1


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_requests_while_the_database_refuses_connections_are_503(
    client: TestClient, database_url: str
) -> None:
    """Not even the key can be read: a check and a consent change (both taken past FastAPI's
    routing, api/direct) and a routed read all answer 503, and all work again after."""
    make_purpose(client)
    cid = make_customer(client)
    url = database_url.replace("+psycopg", "")
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            _drop_every_connection_from(admin, name)
            answers = [
                client.post(f"/v1/customers/{cid}/consents", json=GRANT),
                client.get("/v1/check", params={"customer": cid, "purpose": "newsletter"}),
                client.get(f"/v1/customers/{cid}/consents"),
            ]
        finally:
            admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert [a.status_code for a in answers] == [503, 503, 503], [a.text for a in answers]
    assert all(a.json()["type"].endswith("/database-unavailable") for a in answers)
    # Afterwards: a request may still meet a pooled connection dropped with the rest (503,
    # retry), and the retry works on a new one.
    after = [client.post(f"/v1/customers/{cid}/consents", json=GRANT).status_code for _ in "12"]
    assert after in ([201, 201], [503, 201]), after


def _drop_every_connection_from(admin: psycopg.Connection, database: str) -> None:
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
        (database,),
    )
