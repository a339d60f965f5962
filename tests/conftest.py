"""Fixtures: every storage test runs on real SQLite and real PostgreSQL.

PostgreSQL is the server named by CONSENTRY_TEST_POSTGRES_URL (a database named like
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``); the suite creates a scratch database
there and drops it at the end. Without the variable the PostgreSQL half is skipped locally; under
CI (CI=true) a missing or unreachable server fails the run instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from consentry.api.app import create_app
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import metadata

ADMIN_KEY = "test-admin-key-" + "x" * 32
PG_ENV = "CONSENTRY_TEST_POSTGRES_URL"

# The tests' webhook receivers are real HTTP servers on this machine: allow loopback for them
# (and for the servers the tests start), as an operator would for an on-premises receiver.
# The tests of the guard itself pass their own, empty, setting.
LOCAL_RECEIVERS = "127.0.0.0/8,::1/128"
os.environ.setdefault("CONSENTRY_WEBHOOK_ALLOW_NETWORKS", LOCAL_RECEIVERS)


def _pg_base_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        pytest.fail(f"{PG_ENV} is not set under CI: the PostgreSQL suite must run", pytrace=False)
    return url


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    base = _pg_base_url()
    if base is None:
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests skipped (CI sets it)")
    name = "consentry_test_" + secrets.token_hex(4)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {base} cannot be reached: {exc}", pytrace=False)
    url = make_url(base).set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        exists = conn.execute(text("SELECT to_regclass('public.apps')")).scalar()
        if exists:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'consentry.db'}"
    url: str = request.getfixturevalue("pg_url")
    _truncate_pg(url)
    return url


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, admin_key=ADMIN_KEY)


@pytest.fixture
def hub(settings: Settings) -> Iterator[Hub]:
    hub = Hub.open(settings)
    yield hub
    hub.close()


@pytest.fixture
def client(hub: Hub) -> Iterator[TestClient]:
    with TestClient(create_app(hub, run_sequencer=False), raise_server_exceptions=False) as c:
        c.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield c
