"""Webhooks: endpoints apps register, the dispatcher that fans sequenced outbox changes out to
them (one delivery per change and endpoint, in the transaction that moves its place in the
outbox: nothing fanned out twice or skipped), and delivery signed per the Standard Webhooks
specification (the ``standardwebhooks`` package), retried with back-off, dead-lettered after
``webhook_retry_days``; an endpoint failing for ``webhook_disable_after_days`` is disabled."""

from __future__ import annotations

import base64
import random
import secrets
import time
from datetime import UTC
from typing import Any

import aiohttp
import orjson
from sqlalchemy import Connection
from standardwebhooks import Webhook

from consentry.domain.access import Caller
from consentry.domain.changes import audience
from consentry.domain.clock import from_micros, rfc3339_micros
from consentry.domain.errors import InvalidInput, NotFound
from consentry.domain.ids import new_id
from consentry.domain.webhooks import Endpoint, IPNetwork, next_attempt, parse_networks
from consentry.schemas.webhooks import EndpointIn
from consentry.services.hub import Hub
from consentry.services.metrics import DELIVERIES
from consentry.services.outbound import GuardedResolver, RefusedAddress, check_url
from consentry.store import apps as app_store
from consentry.store import outbox as outbox_store
from consentry.store import webhooks as store
from consentry.vault.errors import KeyGone

# The data key that seals endpoints' signing secrets: a system key, in the key store like the
# customers' (the retention sweep leaves ``sys_`` keys alone).
SYSTEM_KEY = "sys_webhooks"
SECRET_FIELD = "webhook-secret"
DISPATCH_LOCK = 0x77686F6B  # "whok"
DAY = 86_400_000_000
_rng = random.Random()


# -- endpoints


def _seal_secret(hub: Hub, secret: str) -> bytes:
    try:
        hub.vault.key(SYSTEM_KEY)
    except KeyGone:
        hub.vault.new_keys([SYSTEM_KEY], hub.now_micros())
    return hub.vault.seal(SYSTEM_KEY, SECRET_FIELD, secret)


def secret_of(hub: Hub, row: Any) -> str:
    return hub.vault.unseal(SYSTEM_KEY, SECRET_FIELD, bytes(row.secret_sealed))


def endpoint_json(conn: Connection, row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "description": row.description,
        "types": row.types,
        "purposes": row.purposes,
        "created_at": rfc3339_micros(row.created_at),
        "active": row.disabled_at is None,
        "failing_since": rfc3339_micros(row.failing_since) if row.failing_since else None,
        "disabled_at": rfc3339_micros(row.disabled_at) if row.disabled_at else None,
        "disabled_reason": row.disabled_reason,
        "deliveries": store.counts(conn, row.id),
    }


def create_endpoint(hub: Hub, conn: Connection, caller: Caller, body: EndpointIn) -> dict[str, Any]:
    try:
        check_url(str(body.url), allowed_networks(hub))
    except RefusedAddress:
        raise InvalidInput(
            "deliveries may not go to this address (loopback, private, link-local…); an "
            "on-premises receiver's network can be allowed with CONSENTRY_WEBHOOK_ALLOW_NETWORKS",
            [{"loc": ["body", "url"], "msg": "address not allowed"}],
        ) from None
    unknown = [p for p in body.purposes if not caller.may_use(p)]
    if unknown:
        raise InvalidInput(
            f"this app is not bound to purpose {unknown[0]!r}",
            [{"loc": ["body", "purposes"], "msg": "not one of the app's purposes"}],
        )
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    endpoint_id = new_id("whe")
    hub.db.advisory_lock(conn, DISPATCH_LOCK)
    if not store.any_endpoint(conn):
        # Workers do not fan out while there is no endpoint (see any_endpoints): the first
        # one starts from the changes sequenced from now on, as it would have if they had.
        store.set_dispatched_to(conn, outbox_store.last_position(conn))
    store.insert_endpoint(
        conn,
        {
            "id": endpoint_id,
            "app_id": caller.app_id,
            "url": str(body.url),
            "description": body.description,
            "types": [t.value for t in body.types],
            "purposes": body.purposes,
            "secret_sealed": _seal_secret(hub, secret),
            "created_at": hub.now_micros(),
        },
    )
    return {**endpoint_json(conn, store.get_endpoint(conn, endpoint_id)), "secret": secret}


def _require(conn: Connection, caller: Caller, endpoint_id: str) -> Any:
    """The endpoint, if the caller owns it (admin owns all). Another app's endpoint is as
    unknown as one that does not exist: 404, never 403, so its id tells nothing."""
    row = store.get_endpoint(conn, endpoint_id)
    if row is None or not _owns(caller, row):
        raise NotFound(f"no webhook endpoint {endpoint_id!r}")
    return row


def _owns(caller: Caller, row: Any) -> bool:
    return caller.is_admin or row.app_id == caller.app_id


def get_endpoint(hub: Hub, caller: Caller, endpoint_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        return endpoint_json(conn, _require(conn, caller, endpoint_id))


def list_endpoints(hub: Hub, caller: Caller) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        return [endpoint_json(conn, r) for r in store.all_endpoints(conn) if _owns(caller, r)]


def delete_endpoint(hub: Hub, conn: Connection, caller: Caller, endpoint_id: str) -> dict[str, Any]:
    _require(conn, caller, endpoint_id)
    store.delete_endpoint(conn, endpoint_id)
    return {"id": endpoint_id, "deleted": True}


def enable_endpoint(hub: Hub, conn: Connection, caller: Caller, endpoint_id: str) -> dict[str, Any]:
    """Turn a disabled endpoint back on; its dead deliveries can then be redelivered."""
    _require(conn, caller, endpoint_id)
    store.update_endpoint(
        conn, endpoint_id, {"disabled_at": None, "disabled_reason": None, "failing_since": None}
    )
    return endpoint_json(conn, _require(conn, caller, endpoint_id))


def delivery_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "webhook_id": f"msg_{row.position}",
        "position": row.position,
        "customer": row.subject,
        "status": row.status,
        "attempts": row.attempts,
        "next_attempt_at": (
            rfc3339_micros(row.next_attempt_at) if row.status == "pending" else None
        ),
        "last_status_code": row.last_status_code,
        "last_error": row.last_error,
        "last_duration_ms": row.last_duration_ms,
        "created_at": rfc3339_micros(row.created_at),
        "delivered_at": rfc3339_micros(row.delivered_at) if row.delivered_at else None,
    }


def deliveries(
    hub: Hub, caller: Caller, endpoint_id: str, status: str | None, limit: int
) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        _require(conn, caller, endpoint_id)
        return [delivery_json(r) for r in store.deliveries_of(conn, endpoint_id, status, limit)]


def redeliver(
    hub: Hub, conn: Connection, caller: Caller, endpoint_id: str, delivery_id: str
) -> dict[str, Any]:
    """Send it again (a dead one, or a delivered one the receiver lost): the same webhook-id,
    a fresh three days of retries."""
    _require(conn, caller, endpoint_id)
    row = store.get_delivery(conn, delivery_id)
    if row is None or row.endpoint_id != endpoint_id:
        raise NotFound(f"endpoint {endpoint_id!r} has no delivery {delivery_id!r}")
    store.finish(
        conn,
        delivery_id,
        {
            "status": "pending",
            "next_attempt_at": hub.now_micros(),
            "first_attempt_at": None,
            "leased_until": None,
        },
    )
    found = store.get_delivery(conn, delivery_id)
    return delivery_json(found)


# -- fan-out


def any_endpoints(hub: Hub) -> bool:
    """Whether there is any endpoint to deliver to: a worker's rounds do nothing else until
    there is. Their transactions every 50 ms in each process, with no endpoint at all, cost
    the writes of consent on PostgreSQL their share of the two cores: 684 / 702 changes/s
    with them, 723 / 727 with this one look instead (in pairs, 2026-12-04)."""
    with hub.db.read() as conn:
        return store.any_endpoint(conn)


def dispatch(hub: Hub, batch: int = 5_000) -> int:
    """Fan the next sequenced changes out to the endpoints that want them."""
    with hub.db.read() as conn:  # most rounds have nothing new: no write transaction then
        if outbox_store.last_position(conn) <= store.dispatched_to(conn):
            return 0
    with hub.db.write() as conn:
        hub.db.advisory_lock(conn, DISPATCH_LOCK)
        position = store.dispatched_to(conn)
        changes = store.changes_after(conn, position, batch)
        if not changes:
            return 0
        endpoints = _endpoints(conn)
        now = hub.now_micros()
        rows = [
            {
                "id": new_id("dlv"),
                "endpoint_id": e.id,
                "position": c.position,
                "subject": c.subject,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for c in changes
            for e in endpoints
            if e.wants(c.type, c.purpose, audience(c.type, c.addressed))
        ]
        store.insert_deliveries(conn, rows)
        store.set_dispatched_to(conn, changes[-1].position)
        return len(rows)


def _endpoints(conn: Connection) -> list[Endpoint]:
    found = []
    for row in store.all_endpoints(conn):
        app = app_store.get(conn, row.app_id)
        purposes = frozenset(app.purposes) if app is not None else frozenset()
        found.append(
            Endpoint(
                row.id,
                row.url,
                frozenset(row.types),
                frozenset(row.purposes),
                purposes,
                # A disabled endpoint still gets its deliveries queued: they wait for it.
                app is not None and app.revoked_at is None,
                row.app_id,
            )
        )
    return found


# -- delivery


def payload(row: Any) -> bytes:
    return orjson.dumps(
        {
            "type": row.type,
            "timestamp": rfc3339_micros(row.changed_at),
            "data": {
                "customer": row.subject,
                "purpose": row.purpose,
                "position": row.position,
                **row.body,
            },
        }
    )


# A customer's deliveries to one endpoint go out in order, one after the other, up to this
# many per claim: the order holds, and a busy customer does not need a claim per change.
CHAIN = 10


def lease(hub: Hub) -> int:
    """How long a claim is this worker's: the longest a chain can take, and a margin. A worker
    that dies leaves its claims for this long, then they are sent again."""
    return int((hub.settings.webhook_timeout_seconds * CHAIN + 5) * 1_000_000)


# (delivery row, url, the endpoint's signer), one customer's deliveries, in order. The signer
# lives as long as the claim: an endpoint's secret is opened once a claim, and no cache keeps
# the secrets of deleted endpoints in memory.
Chain = list[tuple[Any, str, Webhook]]


def claim(hub: Hub, limit: int, in_flight: dict[str, int]) -> list[Chain]:
    """Due deliveries in chains (one customer and endpoint each, in order): no more chains for
    an endpoint than its free slots (``webhook_per_endpoint`` less ``in_flight``) nor than
    ``limit``, none for disabled endpoints (theirs wait for "enable")."""
    with hub.db.write() as conn:
        return _claim_in(hub, conn, limit, in_flight)


def _claim_in(hub: Hub, conn: Connection, limit: int, in_flight: dict[str, int]) -> list[Chain]:
    per_endpoint = hub.settings.webhook_per_endpoint
    endpoints = {e.id: e for e in store.all_endpoints(conn)}
    room = {
        e.id: min(limit, per_endpoint - in_flight.get(e.id, 0))
        for e in endpoints.values()
        if e.disabled_at is None
    }
    rows = store.claim(conn, hub.now_micros(), lease(hub), dict(room), CHAIN)
    chains: dict[tuple[str, str], Chain] = {}
    signers: dict[str, Webhook] = {}
    for row in rows:  # in position order
        endpoint = endpoints[row.endpoint_id]
        if row.endpoint_id not in signers:
            signers[row.endpoint_id] = Webhook(secret_of(hub, endpoint))
        chains.setdefault((row.endpoint_id, row.subject), []).append(
            (row, endpoint.url, signers[row.endpoint_id])
        )
    return list(chains.values())


CHECKPOINT_HEADER = "consentry-checkpoint"


def session(hub: Hub) -> aiohttp.ClientSession:
    """The HTTP client deliveries go out on. aiohttp rather than httpx (which the client library
    uses): httpx's connection pool is the bottleneck under many concurrent requests
    (encode/httpx#3215) — on this machine 230 requests/s against aiohttp's 6,400 to the same
    local receiver with 32 concurrent senders."""
    timeout = aiohttp.ClientTimeout(total=hub.settings.webhook_timeout_seconds)
    connector = aiohttp.TCPConnector(
        limit=0,
        limit_per_host=0,
        keepalive_timeout=30,
        resolver=GuardedResolver(allowed_networks(hub)),
    )
    return aiohttp.ClientSession(
        timeout=timeout, connector=connector, auto_decompress=False, raise_for_status=False
    )


def allowed_networks(hub: Hub) -> tuple[IPNetwork, ...]:
    return parse_networks(hub.settings.webhook_allow_networks)


async def send(
    client: aiohttp.ClientSession,
    row: Any,
    url: str,
    signer: Webhook,
    now: int,
    allowed: tuple[IPNetwork, ...],
    checkpoint: str,
) -> tuple[int | None, str | None, int]:
    """POST one delivery, signed; (status code, error, milliseconds). The error is one of a
    few generic words: the receiver's owner learns that it failed, not what a connection
    to an address said (which would make the delivery log a port scanner).

    The log's recent checkpoint rides along (base64, a signed note needs no other signature),
    so the receiver can watch the log's consistency as a witness does."""
    body = payload(row)
    webhook_id = f"msg_{row.position}"
    moment = from_micros(now).astimezone(UTC)
    signature = signer.sign(webhook_id, moment, body.decode())
    headers = {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(now // 1_000_000),
        "webhook-signature": signature,
        "user-agent": "Consentry-Webhooks/1",
        CHECKPOINT_HEADER: base64.b64encode(checkpoint.encode()).decode(),
    }
    started = time.perf_counter()
    code: int | None
    try:
        check_url(url, allowed)
        async with client.post(url, data=body, headers=headers, allow_redirects=False) as answer:
            # The body is not used; read (a bounded part of it) so the connection can be
            # reused — a receiver answering with more only costs its connection.
            await answer.content.read(64 * 1024)
            code = answer.status
        error = None if 200 <= code < 300 else f"HTTP {code}"
    except TimeoutError:
        code, error = None, "timed out"
    except RefusedAddress:
        code, error = None, "address not allowed (CONSENTRY_WEBHOOK_ALLOW_NETWORKS)"
    except aiohttp.ClientConnectionError:
        code, error = None, "could not connect"
    except (aiohttp.ClientError, ValueError):
        code, error = None, "request failed"
    return code, error, int((time.perf_counter() - started) * 1000)


Outcome = tuple[Any, int | None, str | None, int]


def record_many(hub: Hub, chains: list[tuple[list[Outcome], list[str]]]) -> None:
    """The outcomes of chains' attempts, in one transaction, and the claims each gives back
    untried (after a failure, the rest of its chain waits behind it)."""
    with hub.db.write() as conn:
        _record_in(hub, conn, chains)


def record_and_claim(
    hub: Hub, chains: list[tuple[list[Outcome], list[str]]], limit: int, in_flight: dict[str, int]
) -> list[Chain]:
    """A worker's round: the outcomes so far recorded, then the next chains claimed, in one
    write transaction (on SQLite one commit, and no waiting for each other's lock)."""
    with hub.db.write() as conn:
        if chains:
            _record_in(hub, conn, chains)
        return _claim_in(hub, conn, limit, in_flight)


def _record_in(hub: Hub, conn: Connection, chains: list[tuple[list[Outcome], list[str]]]) -> None:
    endpoints = {e.id: e for e in store.all_endpoints(conn)}  # once, not per delivery
    # Given back first, so a failure's hold (store.hold_behind) reaches them too.
    store.release(conn, [i for _, untried in chains for i in untried])
    finished = [
        _outcome(hub, conn, endpoints, row, code, error, ms)
        for outcomes, _ in chains
        for row, code, error, ms in outcomes
    ]
    store.finish_many(conn, finished)


def _outcome(
    hub: Hub,
    conn: Connection,
    endpoints: dict[str, Any],
    row: Any,
    code: int | None,
    error: str | None,
    ms: int,
) -> dict[str, Any]:
    """One attempt's outcome — delivered, retried later, or dead — as the values to store
    (every key of ``store.OUTCOME``); the endpoint's health is updated here."""
    now = hub.now_micros()
    settings = hub.settings
    attempts = row.attempts + 1
    first = row.first_attempt_at or now
    values: dict[str, Any] = {
        "id": row.id,
        "attempts": attempts,
        "first_attempt_at": first,
        "last_status_code": code,
        "last_error": error,
        "last_duration_ms": ms,
        "leased_until": None,
        "next_attempt_at": row.next_attempt_at,
        "delivered_at": row.delivered_at,
    }
    endpoint = endpoints.get(row.endpoint_id)
    if error is None:
        values.update(status="delivered", delivered_at=now)
        if endpoint is not None and endpoint.failing_since is not None:
            store.update_endpoint(conn, row.endpoint_id, {"failing_since": None})
            endpoints[row.endpoint_id] = store.get_endpoint(conn, row.endpoint_id)
    else:
        retry_for = int(settings.webhook_retry_days * DAY)
        at = next_attempt(attempts, first, now, retry_for, _rng)
        values.update(status="pending" if at is not None else "dead", next_attempt_at=at or now)
        if at is not None:
            store.hold_behind(conn, row.endpoint_id, row.subject, row.position, at)
        if endpoint is not None:
            failing = endpoint.failing_since or now
            health: dict[str, Any] = {"failing_since": failing}
            if endpoint.disabled_at is None and now - failing > int(
                settings.webhook_disable_after_days * DAY
            ):
                health.update(
                    disabled_at=now,
                    disabled_reason=f"failing since {rfc3339_micros(failing)}: {error}"[:500],
                )
            store.update_endpoint(conn, row.endpoint_id, health)
            endpoints[row.endpoint_id] = store.get_endpoint(conn, row.endpoint_id)
    return values


async def send_chain(
    client: aiohttp.ClientSession,
    chain: Chain,
    now: Any,
    allowed: tuple[IPNetwork, ...],
    checkpoint: str,
) -> tuple[list[tuple[Any, int | None, str | None, int]], list[str]]:
    """Send a chain in order, stopping at the first failure: (outcomes, untried ids)."""
    outcomes: list[tuple[Any, int | None, str | None, int]] = []
    for index, (row, url, signer) in enumerate(chain):
        code, error, ms = await send(client, row, url, signer, now(), allowed, checkpoint)
        DELIVERIES.labels(row.endpoint_id, "failed" if error else "delivered").inc()
        outcomes.append((row, code, error, ms))
        if error is not None:
            return outcomes, [r.id for r, _, _ in chain[index + 1 :]]
    return outcomes, []
