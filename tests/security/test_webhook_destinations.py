"""Security review 816681f, finding 5: webhook deliveries never reach our own network —
loopback in every spelling, private, link-local (the cloud metadata service), CGNAT,
multicast, unspecified, IPv4-mapped — unless CONSENTRY_WEBHOOK_ALLOW_NETWORKS lists the
network; names are judged by the address they resolve to at delivery time; the delivery log
says only that a delivery failed, never what a connection attempt revealed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consentry.api.app import create_app
from consentry.domain.webhooks import literal_address, parse_networks, refused
from consentry.services.hub import Hub
from consentry.services.webhook_worker import deliver_now
from consentry.settings import Settings
from tests.conftest import ADMIN_KEY
from tests.helpers import make_customer
from tests.receiver import receiving
from tests.servers import free_port


@pytest.fixture
def guarded(tmp_path: Path, database_url: str) -> Iterator[tuple[Hub, TestClient]]:
    """A server with the default setting: no network allowed."""
    settings = Settings(
        data_dir=tmp_path / "g",
        database_url=database_url,
        admin_key=ADMIN_KEY,
        webhook_allow_networks="",
    )
    hub = Hub.open(settings)
    with TestClient(create_app(hub, run_sequencer=False), raise_server_exceptions=False) as api:
        api.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield hub, api
    hub.close()


REFUSED_HOSTS = [
    "127.0.0.1",
    "127.1",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "169.254.169.254",
    "10.0.0.7",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "224.0.0.1",
    "0.0.0.0",
    "[fe80::1]",
    "[fc00::1]",
]


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_a_literal_internal_address_is_refused_at_registration(
    guarded: tuple[Hub, TestClient], host: str
) -> None:
    _, api = guarded
    r = api.post("/v1/webhooks", json={"url": f"http://{host}:8000/hook"})
    assert r.status_code == 422, (host, r.text)
    assert "CONSENTRY_WEBHOOK_ALLOW_NETWORKS" in r.json()["detail"]


def test_the_rule_for_each_address() -> None:
    for host in REFUSED_HOSTS:
        address = literal_address(host)
        assert address is not None and refused(address, ()), host
    public = literal_address("93.184.216.34")
    assert public is not None and not refused(public, ())
    loopback = literal_address("127.0.0.1")
    assert loopback is not None and not refused(loopback, parse_networks("127.0.0.0/8"))
    mapped = literal_address("::ffff:10.1.2.3")
    assert mapped is not None and not refused(mapped, parse_networks("10.0.0.0/8"))


def test_a_name_that_resolves_to_loopback_is_not_delivered_to(
    guarded: tuple[Hub, TestClient],
) -> None:
    hub, api = guarded
    with receiving() as receiver:
        port = receiver.url.rsplit(":", 1)[1].split("/")[0]
        # "localhost" is a name: accepted at registration, refused when it resolves.
        created = api.post("/v1/webhooks", json={"url": f"http://localhost:{port}/hook"})
        assert created.status_code == 201, created.text
        make_customer(api)
        api.post(f"/v1/customers/{make_customer(api)}/restrict")
        hub.outbox.integrate_all()
        deliver_now(hub, rounds=3)
        assert receiver.received == []
    [delivery, *_] = api.get(f"/v1/webhooks/{created.json()['id']}/deliveries").json()
    assert delivery["status"] in ("pending", "dead")
    assert delivery["last_error"] == "address not allowed (CONSENTRY_WEBHOOK_ALLOW_NETWORKS)"


def test_a_failed_connection_is_logged_without_what_it_revealed(
    hub: Hub, client: TestClient
) -> None:
    """With loopback allowed (as for an on-premises receiver), a closed port is "could not
    connect": never the connector's message (refused, reset, no route…), a port scanner's
    answer."""
    created = client.post("/v1/webhooks", json={"url": f"http://127.0.0.1:{free_port()}/h"})
    assert created.status_code == 201
    client.post(f"/v1/customers/{make_customer(client)}/restrict")
    hub.outbox.integrate_all()
    deliver_now(hub, rounds=1)
    [delivery] = client.get(f"/v1/webhooks/{created.json()['id']}/deliveries").json()
    assert delivery["last_error"] == "could not connect"


def test_a_bad_allow_list_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CONSENTRY_WEBHOOK_ALLOW_NETWORKS"):
        Settings(data_dir=tmp_path, webhook_allow_networks="10.0.0.0/8, not-a-network")
