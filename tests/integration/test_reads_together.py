"""Issue 25: the everyday reads of one customer are one statement each, and on PostgreSQL the
reads that arrive together share one (store/quick.py). Many requests at once, for different
customers, some unknown, some erased, each get their own answer — the same one a request
alone gets; a purpose changed by the API is seen by the very next read."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi.testclient import TestClient

from tests.helpers import change, make_customer, make_purpose
from tests.integration.test_profiling import WEB_CUSTOMER, _asked_customer


async def _together(client: TestClient, calls: list[tuple[str, str, Any]]) -> list[httpx.Response]:
    transport = httpx.ASGITransport(app=client.app)
    headers = dict(client.headers)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=headers
        ) as c:
            return await asyncio.gather(
                *(c.request(method, path, json=body) for method, path, body in calls)
            )
    finally:
        # As the server does on shutdown: this loop's connections go with it.
        await client.app.state.hub.quick.close_async()
        await client.app.state.check_batch.close()


def test_reads_made_at_once_each_get_their_own_answer(client: TestClient) -> None:
    make_purpose(client)
    people = [make_customer(client, identifiers={"email": f"p{n}@example.com"}) for n in range(12)]
    for n, cid in enumerate(people):
        if n % 2:
            assert change(client, cid).status_code == 201
    erased = people[-1]
    assert client.delete(f"/v1/customers/{erased}").status_code == 202
    calls: list[tuple[str, str, Any]] = []
    for n, cid in enumerate(people):
        calls += [
            ("GET", f"/v1/customers/{cid}", None),
            ("GET", f"/v1/customers/{cid}/consents", None),
            ("GET", f"/v1/customers/{cid}/answers", None),
            ("POST", "/v1/customers/lookup", {"email": f"p{n}@example.com"}),
            (
                "POST",
                "/v1/customers/lookup",
                {"email": f"p{n}@example.com", "include": ["consents"]},
            ),
        ]
    calls += [
        ("GET", "/v1/customers/cus_nobody/consents", None),
        ("POST", "/v1/customers/lookup", {"email": "nobody@example.com"}),
    ]
    answers = asyncio.run(_together(client, calls))
    for (method, path, body), answer in zip(calls, answers, strict=True):
        alone = client.request(method, path, json=body)
        assert (answer.status_code, answer.json()) == (alone.status_code, alone.json()), path
    by_call = dict(zip([c[1] + str(c[2]) for c in calls], answers, strict=True))
    assert by_call[f"/v1/customers/{erased}/consentsNone"].status_code == 410
    assert by_call["/v1/customers/cus_nobody/consentsNone"].status_code == 404
    granted = by_call[f"/v1/customers/{people[1]}/consentsNone"].json()["consents"]
    assert {c["channel"]: c["status"] for c in granted}["email"] == "granted"
    assert by_call[f"/v1/customers/{people[0]}/consentsNone"].json()["consents"][0]["status"] == (
        "not_set"
    )


def test_a_new_purpose_is_seen_by_the_next_read(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    before = client.get(f"/v1/customers/{cid}/consents").json()["consents"]
    assert {c["purpose"] for c in before} == {"newsletter"}
    make_purpose(client, id="profiling", title="Profiling", description="From what you buy.")
    after = client.get(f"/v1/customers/{cid}/consents").json()["consents"]
    assert {c["purpose"] for c in after} == {"newsletter", "profiling"}
    assert change(client, cid, purpose="profiling", channel=None).status_code == 201
    granted = client.get(f"/v1/customers/{cid}/consents").json()["consents"]
    assert {c["status"] for c in granted if c["purpose"] == "profiling"} == {"granted"}
    # A new notice that asks everyone again: the very next read knows (no stale cache).
    update = {"title": "Profiling, from what you tell us", "reconsent": True}
    assert client.put("/v1/purposes/profiling", json=update).status_code == 200
    again = client.get(f"/v1/customers/{cid}/consents").json()["consents"]
    assert {c["status"] for c in again if c["purpose"] == "profiling"} == {"stale"}


def _pages(client: TestClient, path: str, key: str) -> list[list[Any]]:
    """Every page of ``path`` at two items a page, following ``next``."""
    pages, after = [], None
    while True:
        params = {"limit": 2, **({"after": after} if after else {})}
        page = client.get(path, params=params)
        assert page.status_code == 200, page.text
        pages.append(page.json()[key])
        after = page.json()["next"]
        if after is None:
            return pages


def test_pages_and_pairs_read_together_as_alone(client: TestClient) -> None:
    make_purpose(client)
    cid = _asked_customer(client)
    paid = client.post(
        f"/v1/customers/{cid}/answers",
        json={"question": "favourite_colour", "value": "red", **WEB_CUSTOMER},
    )
    assert paid.status_code in (200, 201), paid.text
    for n in range(4):
        spent = {"points": 1, "reason": f"voucher {n}"}
        assert client.post(f"/v1/customers/{cid}/points/redeem", json=spent).status_code == 201
        assert change(client, cid, action="withdraw" if n % 2 else "grant").status_code == 201
    points = _pages(client, f"/v1/customers/{cid}/points", "entries")
    history = _pages(client, f"/v1/customers/{cid}/consents/history", "records")
    assert [len(p) for p in points] == [2, 2, 1]
    everything = client.get(f"/v1/customers/{cid}/points").json()["entries"]
    assert [e for page in points for e in page] == everything
    assert sum(len(p) for p in history) == len(
        client.get(f"/v1/customers/{cid}/consents/history").json()["records"]
    )
    twins = [
        make_customer(
            client,
            identifiers={"email": f"twin{n}@example.com"},
            name="Kim Lee",
            postcode="EC1A 1BB",
        )
        for n in range(2)
    ]
    single = make_customer(
        client, identifiers={"email": "sam@example.com"}, name="Sam Lee", postcode="EC1A 1BB"
    )
    first_points = client.get(f"/v1/customers/{cid}/points", params={"limit": 2}).json()["next"]
    calls: list[tuple[str, str, Any]] = [
        ("GET", f"/v1/customers/{cid}/points?limit=2&after={first_points}", None),
        ("GET", f"/v1/customers/{cid}/points?limit=2", None),
        ("GET", f"/v1/customers/{cid}/consents/history?limit=2", None),
        ("GET", f"/v1/customers/{cid}/consents/history?limit=3", None),
        ("GET", f"/v1/customers/{twins[0]}/points", None),
        ("POST", "/v1/customers/lookup", {"name": "Kim Lee", "postcode": "ec1a1bb"}),
        ("POST", "/v1/customers/lookup", {"name": "Sam Lee", "postcode": "EC1A 1BB"}),
        (
            "POST",
            "/v1/customers/lookup",
            {"name": "sam lee", "postcode": "EC1A 1BB", "include": ["consents"]},
        ),
    ] * 3
    answers = asyncio.run(_together(client, calls))
    for (method, path, body), answer in zip(calls, answers, strict=True):
        alone = client.request(method, path, json=body)
        assert (answer.status_code, answer.json()) == (alone.status_code, alone.json()), path
    assert answers[5].status_code == 409  # two customers share the pair: ask for more
    assert answers[6].json() == {"id": single}
