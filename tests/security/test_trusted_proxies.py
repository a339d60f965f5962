"""Security review 816681f, finding 9 (behind a load balancer): a real `consentry serve`
believes X-Forwarded-For only from the proxies it was told of, so clerks behind one proxy do
not share one sign-in bucket — and a client that is not a named proxy cannot pick its address."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from consentry.services import desk
from tests.conftest import ADMIN_KEY
from tests.helpers import staff_add
from tests.servers import serving

PASSWORD = "plum tractor velvet 42"


def _clerk(data_dir: Path, database_url: str) -> None:
    env = {"CONSENTRY_DATA_DIR": str(data_dir), "CONSENTRY_DATABASE_URL": database_url}
    options = ("--name", "Sam", "--desk", "store", "--location", "store-01-london")
    staff_add(env, "sam", PASSWORD, *options, "--password-stdin")


def _sign_in(base: str, forwarded_for: str, password: str) -> int:
    r = httpx.post(
        f"{base}/desk/login",
        data={"username": "sam", "password": password},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return r.status_code


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("trusted", [True, False])
def test_forwarded_addresses_count_only_from_named_proxies(
    tmp_path: Path, database_url: str, trusted: bool
) -> None:
    data = tmp_path / "data"
    env = {
        "CONSENTRY_DATA_DIR": str(data),
        "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
        "CONSENTRY_DATABASE_URL": database_url,
        "CONSENTRY_FORWARDED_ALLOW_IPS": "127.0.0.1" if trusted else "",
    }
    with serving(env) as base:
        _clerk(data, database_url)
        for _ in range(desk.FAILURES_PER_IP_AND_USER):  # someone guessing at one till
            assert _sign_in(base, "10.0.0.1", "a wrong password") == 401
        # Sam at another till, behind the same proxy:
        status = _sign_in(base, "10.0.0.2", PASSWORD)
    # Trusted, the proxy's X-Forwarded-For tells the tills apart: Sam gets in (a redirect).
    # Not trusted, every request is the proxy's own address: that bucket is paused.
    assert status == (303 if trusted else 401)
