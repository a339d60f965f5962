"""Checks (and the app behind a key, which every request reads) that arrive together on
PostgreSQL are read together in one statement (api/check_batch, CheckReader.read_many_async):
each still gets its own answer, or its own error, the same as read alone."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import psycopg
import pytest
from fastapi.testclient import TestClient

from consentry.api.check_batch import CheckBatch
from consentry.services import checks
from consentry.services.apps import hash_key
from consentry.services.hub import Hub
from tests.conftest import ADMIN_KEY
from tests.helpers import change, make_customer, make_purpose, new_app


def _people(client: TestClient) -> list[str]:
    make_purpose(client)
    make_purpose(client, id="loyalty", title="Loyalty club", channels=["email"])
    everywhere, stopped, back_on_email, sms_only, fresh = (make_customer(client) for _ in range(5))
    change(client, everywhere, channel=None)
    change(client, everywhere, purpose="loyalty")
    change(client, stopped)
    change(client, stopped, action="withdraw", channel=None)
    change(client, back_on_email, action="withdraw", channel=None)
    change(client, back_on_email)
    change(client, sms_only, channel="sms")
    return [everywhere, stopped, back_on_email, sms_only, fresh, "cus_unknown"]


def _keys(client: TestClient) -> list[str | None]:
    _, reader = new_app(client, ["consents:read"], ["newsletter"])
    _, writer = new_app(client, ["consents:write"], ["newsletter", "loyalty"])
    revoked_id, revoked = new_app(client, ["consents:read"], ["newsletter"])
    assert client.delete(f"/v1/apps/{revoked_id}").status_code == 200
    return [ADMIN_KEY, reader, writer, revoked, "not-a-key", None]


def _outcome(answer: dict[str, Any] | Exception) -> Any:
    return (type(answer).__name__, str(answer)) if isinstance(answer, Exception) else answer


def _count_reads(hub: Hub) -> list[int]:
    """A spy on the many-question read: the real read, the size of each noted in the list."""
    sizes: list[int] = []
    read_many_async = hub.checks.read_many_async

    async def counting(questions: list[Any]) -> Any:
        sizes.append(len(questions))
        return await read_many_async(questions)

    hub.checks.read_many_async = counting  # type: ignore[method-assign]
    return sizes


def _alone(hub: Hub, question: checks.Question) -> Any:
    try:
        return _outcome(checks.check(hub, *question))
    except Exception as exc:
        return _outcome(exc)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite reads each alone
def test_checks_read_together_answer_as_each_alone(client: TestClient, hub: Hub) -> None:
    people, keys = _people(client), _keys(client)
    questions: list[checks.Question] = [
        (key, person, purpose, channel)
        for key, person, purpose, channel in itertools.product(
            keys, people, ["newsletter", "loyalty", "nosuch"], ["email", "sms", None, "fax"]
        )
    ]
    questions += questions[:7]  # the same question twice in one read
    # Authentication alone, as every other request reads it: the app, or None.
    hashes = [hash_key(hub, key) for key in keys if key]  # the last: "not-a-key"
    sizes = _count_reads(hub)

    async def all_at_once() -> tuple[list[Any], list[Any]]:
        batch = CheckBatch(hub)
        try:
            answers = asyncio.gather(*(batch.check(q) for q in questions), return_exceptions=True)
            apps = asyncio.gather(*(batch.app(h) for h in hashes))
            return await answers, await apps
        finally:
            await batch.close()

    answers, apps = asyncio.run(all_at_once())
    assert max(sizes) > len(questions) // 2, sizes  # read together, not one by one
    together = [_outcome(a) for a in answers]
    alone = [_alone(hub, q) for q in questions]
    assert together == alone
    assert apps == [hub.checks.app(h) for h in hashes]
    assert apps[-1] is None and all(app is not None for app in apps[:-1])
    # The questions cover every kind of answer, so the comparison means something.
    kinds = {o[0] if isinstance(o, tuple) else (o["allowed"], o["reason"]) for o in alone}
    assert {
        "Unauthenticated",
        "Forbidden",
        "CustomerNotFound",
        "UnknownPurpose",
        "UnknownChannel",
        (True, "granted"),
        (False, "withdrawn"),
        (False, "not_set"),
    } <= kinds, kinds


def test_concurrent_check_requests_are_read_together(client: TestClient, hub: Hub) -> None:
    people = _people(client)
    expected = {}
    for person in people:  # each alone, through the service (on PostgreSQL its own statement)
        alone = _alone(hub, (ADMIN_KEY, person, "newsletter", None))
        expected[person] = (404, "CustomerNotFound") if isinstance(alone, tuple) else (200, alone)
    sizes = _count_reads(hub)

    async def all_at_once() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=client.app)
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://hub", headers=headers
        ) as http:
            return await asyncio.gather(
                *(
                    http.get("/v1/check", params={"customer": person, "purpose": "newsletter"})
                    for person in people * 8
                )
            )

    answers = asyncio.run(all_at_once())
    assert [
        (200, r.json()) if r.status_code == 200 else (r.status_code, "CustomerNotFound")
        for r in answers
    ] == [expected[p] for p in people * 8]
    assert sum(a.status_code == 404 for a in answers) == 8  # cus_unknown, each time
    if hub.db.is_postgres:  # read together; on SQLite each check reads alone
        assert max(sizes) > 1 and sum(sizes) == len(people) * 8, sizes
    else:
        assert sizes == []


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite has no connection
def test_a_check_connection_the_database_dropped_is_replaced(
    client: TestClient, database_url: str
) -> None:
    person = _people(client)[0]
    params = {"customer": person, "purpose": "newsletter", "channel": "email"}
    assert client.get("/v1/check", params=params).json()["allowed"] is True
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as admin:
        dropped = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND query LIKE '%WITH ORDINALITY%'"
        ).fetchone()
    assert dropped is not None and dropped[0] >= 1  # the check's connection was among them
    answer = client.get("/v1/check", params=params)
    assert answer.status_code == 200 and answer.json()["allowed"] is True
