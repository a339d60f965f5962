"""Security review 816681f, finding 8: a PostgreSQL that stops answering no longer hangs
requests for 40 s and more: they answer 503 database-unavailable within about two seconds,
/readyz says so too while /healthz (liveness) stays 200, and all works again after."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from consentry.api.app import create_app
from consentry.services.hub import Hub
from consentry.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.helpers import GRANT, make_customer, make_purpose
from tests.pgproxy import FreezingProxy, freezing_proxy


@pytest.fixture
def proxied(tmp_path: Path, database_url: str) -> Iterator[tuple[FreezingProxy, TestClient]]:
    with freezing_proxy() as proxy:
        url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
        settings = Settings(
            data_dir=tmp_path / "d",
            database_url=url.render_as_string(hide_password=False),
            admin_key=ADMIN_KEY,
        )
        hub = Hub.open(settings)
        try:
            app = create_app(hub, run_sequencer=False)
            with TestClient(app, raise_server_exceptions=False) as api:
                api.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
                yield proxy, api
        finally:
            proxy.thaw()
            hub.close()


def _timed(call: object) -> tuple[int, float, str]:
    started = time.monotonic()
    r = call()  # type: ignore[operator]
    return r.status_code, time.monotonic() - started, r.headers.get("content-type", "")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_requests_answer_503_quickly_while_the_database_does_not_answer(
    proxied: tuple[FreezingProxy, TestClient],
) -> None:
    proxy, api = proxied
    make_purpose(api)
    cid = make_customer(api)
    check = {"customer": cid, "purpose": "newsletter", "channel": "email"}
    assert api.get("/v1/check", params=check).status_code == 200
    assert api.get("/readyz").status_code == 200
    proxy.freeze()
    calls = [
        lambda: api.get("/v1/check", params=check),
        lambda: api.post(f"/v1/customers/{cid}/consents", json=GRANT),
        lambda: api.get(f"/v1/customers/{cid}/consents"),
        lambda: api.post("/v1/customers/lookup", json={"email": "x@example.com"}),
    ]
    for call in calls * 2:  # the dropped connections first, then new ones that hang
        status, took, kind = _timed(call)
        assert status == 503 and kind == "application/problem+json", status
        assert took < 4.5, f"took {took:.1f} s"
    assert api.get("/healthz").status_code == 200  # alive
    status, took, _ = _timed(lambda: api.get("/readyz"))
    assert status == 503 and took < 3.0  # but not ready
    proxy.thaw()
    deadline = time.monotonic() + 10
    while api.get("/readyz").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert api.get("/readyz").status_code == 200
    answers = [api.post(f"/v1/customers/{cid}/consents", json=GRANT).status_code for _ in range(3)]
    assert 201 in answers
    assert api.get("/v1/check", params=check).json()["allowed"] is True
