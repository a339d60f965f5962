"""The authorisation table: every route of the server — the API and every page — with who may
call it, and a test that calls each one as everybody who may not.

A route added without a row here fails `test_every_route_has_a_row`. The rows say:

- ``Key(scopes)``: an API key holding one of ``scopes`` (admin holds all; no scopes: any valid
  key). Without a key, or with a revoked one: 401; with any other scope: 403.
  ``purpose``: the call names a purpose, and a key bound to another purpose gets 403.
  ``owned``: the call names something an app owns; another app gets 404 (not even its
  existence is told), its owner and admin get through.
- ``Public``: anyone, no key (liveness, keys for verifiers, sign-in and link pages).
- ``Centre``: a customer's preference-centre session, on that customer's own data only.
- ``Desk``: a staff member's desk session.
- ``Console(permission)``: a console session whose role has ``permission``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from consentry.api.app import ROUTERS
from consentry.domain.access import Scope
from consentry.domain.console import Permission, Role, may
from consentry.services import desk
from consentry.services.hub import Hub
from tests.helpers import GRANT, make_customer, make_purpose, new_app, open_link

CR, CW = "customers:read", "customers:write"
KR, KW, KS = "consents:read", "consents:write", "consents:sensitive"
PR, PW = "preferences:read", "preferences:write"
EW, DR, SM = "events:write", "decisions:read", "subjects:manage"
WM, ER = "webhooks:manage", "evidence:read"
MR = "metrics:read"
ADMIN = "admin"


@dataclass(frozen=True)
class Key:
    scopes: frozenset[str] = frozenset()  # empty: any valid key
    purpose: bool = False
    owned: bool = False


def key(*scopes: str, purpose: bool = False, owned: bool = False) -> Key:
    return Key(frozenset(scopes), purpose, owned)


@dataclass(frozen=True)
class Public:
    pass


@dataclass(frozen=True)
class Centre:
    pass


@dataclass(frozen=True)
class Desk:
    pass


@dataclass(frozen=True)
class Console:
    permission: Permission = Permission.VIEW


Rule = Key | Public | Centre | Desk | Console
ANY_KEY = key()
VIEW = Console(Permission.VIEW)

TABLE: dict[tuple[str, str], Rule] = {
    # -- the API
    ("GET", "/v1/check"): key(KR, purpose=True),
    ("POST", "/v1/check/batch"): key(KR, purpose=True),
    ("POST", "/v1/apps"): key(ADMIN),
    ("GET", "/v1/apps"): key(ADMIN),
    ("DELETE", "/v1/apps/{app_id}"): key(ADMIN),
    ("PUT", "/v1/apps/{app_id}/data-holder"): key(ADMIN),
    ("POST", "/v1/purposes"): key(ADMIN),
    ("PUT", "/v1/purposes/{purpose_id}"): key(ADMIN),
    ("GET", "/v1/purposes"): ANY_KEY,
    ("GET", "/v1/purposes/{purpose_id}"): ANY_KEY,
    ("POST", "/v1/customers"): key(CW),
    # With "include": ["consents"], consents:read too (tests/integration/test_lookup_with_consents).
    ("POST", "/v1/customers/lookup"): key(CR),
    # The profile: identifiers only with customers:read; the rest see status alone.
    ("GET", "/v1/customers/{customer_id}"): key(CR, CW, KR, KW),
    ("DELETE", "/v1/customers/{customer_id}"): key(SM),
    ("POST", "/v1/customers/{customer_id}/restrict"): key(SM),
    ("POST", "/v1/customers/{customer_id}/unrestrict"): key(SM),
    ("GET", "/v1/customers/{customer_id}/export"): key(SM),
    ("POST", "/v1/customers/{customer_id}/preference-link"): key(CW),
    ("POST", "/v1/customers/{customer_id}/consents"): key(KW, purpose=True),
    ("POST", "/v1/collection-points"): key(ADMIN),
    ("GET", "/v1/collection-points"): key(ADMIN),
    ("GET", "/v1/collection-points/{point_id}"): key(ADMIN),
    ("PUT", "/v1/collection-points/{point_id}"): key(ADMIN),
    ("GET", "/v1/collection-points/{point_id}/rates"): key(ADMIN),
    # What any visitor of the shop sees, with the point's publishable key (the service checks).
    ("GET", "/v1/collection-points/{point_id}/form"): Public(),
    ("OPTIONS", "/v1/collection-points/{point_id}/{part}"): Public(),  # CORS: api/cors.py
    # Or the point's publishable key, for that point only, bound to its purposes; the app
    # key's purpose binding is tested in tests/integration/test_collection_points.py.
    ("POST", "/v1/collection-points/{point_id}/submissions"): key(KW),
    ("POST", "/v1/customers/{customer_id}/consents/withdraw-all"): key(KW),
    # Lists of consents and evidence: only the caller's purposes are in them.
    ("GET", "/v1/customers/{customer_id}/consents"): key(KR),
    ("GET", "/v1/customers/{customer_id}/consents/history"): key(KR),
    ("GET", "/v1/evidence/head"): ANY_KEY,
    ("GET", "/v1/evidence/checkpoint"): ANY_KEY,
    ("GET", "/v1/evidence/checkpoint-key"): Public(),
    # Authenticated by the witness's signature, not a key (c2sp.org/tlog-witness).
    ("POST", "/v1/evidence/cosignatures"): Public(),
    ("GET", "/v1/evidence/records/{record_id}/proof"): ANY_KEY,
    ("GET", "/v1/evidence/consistency"): ANY_KEY,
    ("GET", "/v1/evidence/export"): key(ER),
    ("GET", "/v1/receipts/{record_id}"): key(KR, purpose=True),
    ("GET", "/v1/receipts/{record_id}/bundle"): key(KR, purpose=True),
    ("GET", "/.well-known/jwks.json"): Public(),
    ("POST", "/v1/events"): key(EW),
    ("GET", "/v1/customers/{customer_id}/events"): key(SM),
    ("POST", "/v1/customers/{customer_id}/events/{event_id}/exclude"): key(PW),
    ("POST", "/v1/customers/{customer_id}/events/{event_id}/include"): key(PW),
    ("POST", "/v1/questions"): key(ADMIN),
    ("PUT", "/v1/questions/{question_id}"): key(ADMIN),
    ("DELETE", "/v1/questions/{question_id}"): key(ADMIN),
    ("GET", "/v1/questions"): key(PR, PW),
    ("GET", "/v1/questions/{question_id}"): key(PR, PW),
    ("GET", "/v1/customers/{customer_id}/next-question"): key(PR, PW),
    ("POST", "/v1/customers/{customer_id}/answers"): key(PW),
    ("POST", "/v1/customers/{customer_id}/answers/{question_id}/decline"): key(PW),
    ("GET", "/v1/customers/{customer_id}/answers"): key(PR, PW),
    ("DELETE", "/v1/customers/{customer_id}/answers/{question_id}"): key(PW),
    ("GET", "/v1/customers/{customer_id}/asking"): key(PR, PW),
    ("POST", "/v1/customers/{customer_id}/stop-asking"): key(PW),
    ("POST", "/v1/customers/{customer_id}/resume-asking"): key(PW),
    ("GET", "/v1/customers/{customer_id}/points"): key(PR, PW),
    ("POST", "/v1/customers/{customer_id}/points/redeem"): key(PW),
    ("PUT", "/v1/catalogue"): key(ADMIN),
    ("GET", "/v1/catalogue/categories"): key(DR),
    ("POST", "/v1/offers"): key(ADMIN),
    ("PUT", "/v1/offers/{offer_id}"): key(ADMIN),
    ("DELETE", "/v1/offers/{offer_id}"): key(ADMIN),
    ("GET", "/v1/offers"): key(DR),
    ("GET", "/v1/offers/{offer_id}"): key(DR),
    ("PUT", "/v1/triggers"): key(ADMIN),
    ("GET", "/v1/triggers"): key(DR),
    # Reasons in notifications and decisions: facts only for the app's purposes.
    ("GET", "/v1/notifications"): key(DR),
    ("POST", "/v1/notifications/{notification_id}/done"): key(DR),
    ("POST", "/v1/customers/{customer_id}/decisions"): key(DR),
    ("GET", "/v1/customers/{customer_id}/decisions"): key(SM),
    ("POST", "/v1/customers/{customer_id}/offers/{offer_id}/dismiss"): key(PW),
    ("POST", "/v1/customers/{customer_id}/offers/{offer_id}/restore"): key(PW),
    ("GET", "/v1/changes"): key(KR, PR, DR, SM, WM),
    ("POST", "/v1/webhooks"): key(WM),
    ("GET", "/v1/webhooks"): key(WM),  # the caller's own endpoints
    ("GET", "/v1/webhooks/{endpoint_id}"): key(WM, owned=True),
    ("DELETE", "/v1/webhooks/{endpoint_id}"): key(WM, owned=True),
    ("POST", "/v1/webhooks/{endpoint_id}/enable"): key(WM, owned=True),
    ("GET", "/v1/webhooks/{endpoint_id}/deliveries"): key(WM, owned=True),
    ("POST", "/v1/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver"): key(WM, owned=True),
    ("GET", "/v1/erasures"): key(SM),
    ("GET", "/v1/erasures/{erasure_id}"): key(SM),
    ("POST", "/v1/erasures/{erasure_id}/ack"): ANY_KEY,  # an app confirms its own deletion
    ("GET", "/v1/insights/consents"): key(ADMIN),
    ("GET", "/v1/insights/consent-rates"): key(ADMIN),
    ("GET", "/v1/insights/profiling"): key(ADMIN),
    ("GET", "/v1/insights/offers"): key(ADMIN),
    ("GET", "/v1/insights/answers"): key(ADMIN),
    ("GET", "/v1/insights/stages"): key(ADMIN),
    ("GET", "/"): Public(),
    ("GET", "/favicon.ico"): Public(),
    ("GET", "/healthz"): Public(),
    ("GET", "/readyz"): Public(),
    ("GET", "/metrics"): key(MR),
    # -- the preference centre
    ("GET", "/p/request"): Public(),
    ("POST", "/p/request"): Public(),
    ("GET", "/p/{token}"): Public(),  # the link is the secret; a GET only looks at it
    ("POST", "/p/{token}"): Public(),
    ("GET", "/c/{token}"): Public(),  # a confirmation link: the token is the secret
    ("POST", "/c/{token}"): Public(),
    ("GET", "/p/"): Centre(),
    ("POST", "/p/questions/answer"): Centre(),
    ("POST", "/p/questions/decline"): Centre(),
    ("POST", "/p/asking/{choice}"): Centre(),
    ("GET", "/p/answers/{question_id}"): Centre(),
    ("POST", "/p/answers/{question_id}/delete"): Centre(),
    ("GET", "/p/data"): Centre(),
    ("POST", "/p/events/{event_id}/{choice}"): Centre(),
    ("GET", "/p/offers"): Centre(),
    ("POST", "/p/offers/{offer_id}/{choice}"): Centre(),
    ("GET", "/p/download"): Centre(),
    ("GET", "/p/receipts/{record_id}"): Centre(),
    ("POST", "/p/consents"): Centre(),
    ("POST", "/p/stop-all"): Centre(),
    ("POST", "/p/undo"): Centre(),
    ("GET", "/p/delete"): Centre(),
    ("POST", "/p/delete"): Centre(),
    # -- the staff desk
    ("GET", "/desk/login"): Public(),
    ("POST", "/desk/login"): Public(),
    ("POST", "/desk/logout"): Desk(),
    ("GET", "/desk/"): Desk(),
    ("POST", "/desk/notifications/{notification_id}/done"): Desk(),
    ("POST", "/desk/find"): Desk(),
    ("GET", "/desk/customers/{customer_id}"): Desk(),
    ("POST", "/desk/customers/{customer_id}/consents"): Desk(),
    ("POST", "/desk/customers/{customer_id}/questions/answer"): Desk(),
    ("POST", "/desk/customers/{customer_id}/questions/decline"): Desk(),
    ("GET", "/desk/customers/{customer_id}/opt-out"): Desk(),
    ("POST", "/desk/customers/{customer_id}/opt-out"): Desk(),
    ("GET", "/desk/receipts/{record_id}"): Desk(),
    ("POST", "/desk/receipts/{record_id}/send"): Desk(),
    # -- the console
    ("GET", "/console/login"): Public(),
    ("POST", "/console/login"): Public(),
    ("POST", "/console/logout"): VIEW,
    ("GET", "/console/"): VIEW,
    ("GET", "/console/purposes"): VIEW,
    ("POST", "/console/purposes"): Console(Permission.EDIT_PURPOSES),
    ("GET", "/console/purposes/{purpose_id}"): VIEW,
    ("POST", "/console/purposes/{purpose_id}/notice"): Console(Permission.EDIT_PURPOSES),
    ("GET", "/console/questions"): VIEW,
    ("POST", "/console/questions/file"): Console(Permission.EDIT_QUESTIONS),
    ("POST", "/console/questions/{question_id}/retire"): Console(Permission.EDIT_QUESTIONS),
    ("GET", "/console/offers"): VIEW,
    ("POST", "/console/offers/file"): Console(Permission.EDIT_OFFERS),
    ("POST", "/console/offers/{offer_id}/retire"): Console(Permission.EDIT_OFFERS),
    ("GET", "/console/collection-points"): VIEW,
    ("POST", "/console/collection-points/file"): Console(Permission.EDIT_PURPOSES),
    ("GET", "/console/collection-points/{point_id}"): VIEW,
    ("GET", "/console/apps"): Console(Permission.VIEW_APPS),
    ("POST", "/console/apps"): Console(Permission.MANAGE_APPS),
    ("POST", "/console/apps/{app_id}/revoke"): Console(Permission.MANAGE_APPS),
    ("GET", "/console/webhooks"): VIEW,  # receivers' URLs only with MANAGE_WEBHOOKS
    ("POST", "/console/webhooks/{endpoint_id}/enable"): Console(Permission.MANAGE_WEBHOOKS),
    ("GET", "/console/staff"): Console(Permission.MANAGE_STAFF),
    ("POST", "/console/staff"): Console(Permission.MANAGE_STAFF),
    ("POST", "/console/staff/{staff_id}/disable"): Console(Permission.MANAGE_STAFF),
    ("GET", "/console/evidence"): VIEW,
    ("POST", "/console/evidence/verify"): Console(Permission.VERIFY_EVIDENCE),
    ("GET", "/console/evidence/verifications/{verification_id}"): VIEW,
    ("GET", "/console/evidence/verifications/{verification_id}/progress"): VIEW,
    ("GET", "/console/requests"): VIEW,
    ("GET", "/console/activity"): VIEW,
    ("GET", "/console/insights"): VIEW,
    ("GET", "/console/insights/consent-flows.csv"): VIEW,
    ("GET", "/console/insights/consent-rates.csv"): VIEW,
    ("GET", "/console/insights/told"): VIEW,
    ("GET", "/console/insights/offers"): VIEW,
    ("GET", "/console/insights/{name}.csv"): VIEW,
}

# Query strings some routes need to get past validation to their guard.
QUERIES: dict[str, dict[str, str]] = {
    "/console/insights/consent-flows.csv": {"from": "2026-11-01", "to": "2026-11-30"},
    "/console/insights/consent-rates.csv": {"from": "2026-11-01", "to": "2026-11-30"},
    "/console/insights/{name}.csv": {"from": "2026-11-01", "to": "2026-11-30"},
    "/v1/evidence/consistency": {"from": "0", "to": "1"},
    "/v1/notifications": {"notify": "desk"},
}
# Form fields whose value "1" would be refused before the guard is reached.
FORM_VALUES = {"action": "grant", "notice_version": "1", "legal_basis": "consent"}


def _routes() -> Iterator[tuple[str, str, Any]]:
    for module in ROUTERS:
        for route in module.router.routes:
            for method in route.methods:
                yield method, route.path, route


def test_every_route_has_a_row() -> None:
    served = {(method, path) for method, path, _ in _routes()}
    assert served - TABLE.keys() == set(), "routes without a row in the authorisation table"
    assert TABLE.keys() - served == set(), "rows for routes that no longer exist"


# -- the world the calls are made in


@dataclass
class World:
    client: TestClient
    hub: Hub
    ann: str
    bob: str
    record: str
    keys: dict[str, str] = field(default_factory=dict)  # scope -> key bound to every purpose
    params: dict[str, str] = field(default_factory=dict)


class _With:
    """Requests through the test's one client (one event loop thread, as in a server) with
    this key, or with an empty Authorization header for "no key"."""

    def __init__(self, client: TestClient, api_key: str | None) -> None:
        self.client = client
        self.authorization = f"Bearer {api_key}" if api_key is not None else ""

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"Authorization": self.authorization, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self.request("POST", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> Any:
        return self.request("DELETE", url, **kwargs)


def _as(client: TestClient, api_key: str | None) -> Any:
    return _With(client, api_key)


def _browser(client: TestClient) -> TestClient:
    """A browser of its own (its own cookies), without a key."""
    return TestClient(client.app, raise_server_exceptions=False)


@pytest.fixture
def world(hub: Hub, client: TestClient) -> World:
    make_purpose(client)
    make_purpose(client, id="other_purpose", title="Other", description="Another purpose.")
    ann = make_customer(client, identifiers={"email": "ann@example.com"})
    bob = make_customer(client, identifiers={"email": "bob@example.com"})
    made = client.post(f"/v1/customers/{ann}/consents", json=GRANT)
    record = made.json()["record"]["id"]
    keys = {s.value: new_app(client, [s.value], ["*"])[1] for s in Scope if s is not Scope.ADMIN}
    endpoint = client.post("/v1/webhooks", json={"url": "https://crm.example.com/hook"})
    params = {
        "customer_id": ann,
        "purpose_id": "newsletter",
        "record_id": record,
        "endpoint_id": endpoint.json()["id"],
        "name": "profiling",  # /console/insights/{name}.csv
    }
    return World(client, hub, ann, bob, record, keys, params)


def _concrete(path: str, params: dict[str, str]) -> str:
    return re.sub(r"\{([^}]+)\}", lambda m: params.get(m.group(1), "nothing"), path)


def _call(
    api: Any,
    method: str,
    path: str,
    route: Any,
    params: dict[str, str],
    form_values: dict[str, str] | None = None,
) -> Any:
    url = _concrete(path, params)
    values = {**FORM_VALUES, **(form_values or {})}
    query = dict(QUERIES.get(path, {}))
    if path == "/v1/check":
        query.update(customer=params["customer_id"], purpose="newsletter", channel="email")
    if path.startswith("/v1") or path.startswith("/.well-known"):
        body: Any = None
        if method in ("POST", "PUT"):
            body = {}
            if path == "/v1/check/batch":
                body = {"purpose": "newsletter", "channel": "email", "customers": []}
            if path == "/v1/customers/{customer_id}/consents":
                body = GRANT
        return api.request(method, url, params=query, json=body, follow_redirects=False)
    form: dict[str, str] = {}
    files = {}
    for param in route.dependant.body_params:
        if "UploadFile" in str(param.field_info.annotation):
            files[param.alias] = ("upload.yaml", b"", "text/yaml")
        else:
            form[param.alias] = values.get(param.alias, "1")
    return api.request(
        method,
        url,
        params=query,
        data=form or None,
        files=files or None,
        follow_redirects=False,
    )


def _key_routes() -> list[tuple[str, str, Any, Key]]:
    return [(m, p, r, rule) for m, p, r in _routes() if isinstance(rule := TABLE[(m, p)], Key)]


DENIED = {401, 403}


def test_api_routes_refuse_every_caller_the_table_does_not_name(world: World) -> None:
    client = world.client
    _, revoked_key = new_app(client, [s.value for s in Scope if s is not Scope.ADMIN], ["*"])
    revoked_id = client.get("/v1/apps").json()["apps"][-1]["id"]
    assert client.delete(f"/v1/apps/{revoked_id}").status_code in (200, 204)
    failures = []
    for method, path, route, rule in _key_routes():
        if method == "DELETE" and "customer_id" in path:
            continue  # erasing Ann would change the world for the next routes: called last
        for who, api_key in (("no key", None), ("revoked key", revoked_key)):
            status = _call(_as(client, api_key), method, path, route, world.params).status_code
            if status != 401:
                failures.append(f"{method} {path} as {who}: {status}, not 401")
        for scope, api_key in world.keys.items():
            status = _call(_as(client, api_key), method, path, route, world.params).status_code
            allowed = not rule.scopes or scope in rule.scopes
            if allowed and status in DENIED:
                failures.append(f"{method} {path} with {scope}: {status}, refused")
            if not allowed and status != 403:
                failures.append(f"{method} {path} with {scope}: {status}, not 403")
    assert failures == []


def test_purpose_bound_routes_refuse_keys_bound_elsewhere(world: World) -> None:
    client = world.client
    failures = []
    for method, path, route, rule in _key_routes():
        if not rule.purpose:
            continue
        for bound, expect_refused in (("other_purpose", True), ("newsletter", False)):
            _, api_key = new_app(client, sorted(rule.scopes), [bound])
            status = _call(_as(client, api_key), method, path, route, world.params).status_code
            if expect_refused and status != 403:
                failures.append(f"{method} {path} bound to {bound}: {status}, not 403")
            if not expect_refused and status in DENIED:
                failures.append(f"{method} {path} bound to {bound}: {status}, refused")
    assert failures == []


def test_owned_things_are_another_apps_404(world: World) -> None:
    client = world.client
    _, owner_key = new_app(client, [WM], ["*"])
    _, stranger_key = new_app(client, [WM], ["*"])
    owner = _as(client, owner_key)
    mine = owner.post("/v1/webhooks", json={"url": "https://crm.example.com/mine"})
    params = {**world.params, "endpoint_id": mine.json()["id"], "delivery_id": "whd_none"}
    owned = [(m, p, r) for m, p, r, rule in _key_routes() if rule.owned]
    owned.sort(key=lambda x: x[0] == "DELETE")  # deleting last
    for method, path, route in owned:
        stranger = _call(_as(client, stranger_key), method, path, route, params)
        assert stranger.status_code == 404, (method, path, stranger.status_code)
        if "delivery_id" not in path:
            assert _call(owner, method, path, route, params).status_code < 400, (method, path)


def test_erasure_needs_subjects_manage(world: World) -> None:
    client = world.client
    for scope, api_key in world.keys.items():
        status = _as(client, api_key).delete(f"/v1/customers/{world.bob}").status_code
        assert status == (202 if scope == SM else 403), (scope, status)


def _page_routes(kind: type) -> list[tuple[str, str, Any]]:
    return [(m, p, r) for m, p, r in _routes() if isinstance(TABLE[(m, p)], kind)]


def test_centre_pages_need_the_customers_session(world: World) -> None:
    for method, path, route in _page_routes(Centre):
        status = _call(_browser(world.client), method, path, route, world.params).status_code
        assert status == 401, (method, path, status)  # no session: nothing shown or done
    # Bob's session reaches nothing of Ann's.
    url = world.client.post(f"/v1/customers/{world.bob}/preference-link").json()["url"]
    bob = _browser(world.client)
    assert open_link(bob, "/p/" + url.split("/p/")[1]).status_code == 303
    assert bob.get(f"/p/receipts/{world.record}").status_code == 404
    for page in ("/p/", "/p/data", "/p/download"):
        text = bob.get(page).text
        assert world.ann not in text and "ann@example.com" not in text


def _staff_browser(world: World, name: str, role: str | None, at_desk: bool) -> TestClient:
    desk.add_staff(
        world.hub,
        name,
        name.title(),
        "plum tractor velvet 42",
        "store" if at_desk else None,
        "store-01-london" if at_desk else None,
        role,
    )
    browser = _browser(world.client)
    where = "/desk/login" if at_desk else "/console/login"
    r = browser.post(
        where,
        data={"username": name, "password": "plum tractor velvet 42"},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return browser


def test_desk_pages_need_a_desk_session(world: World) -> None:
    console_only = _staff_browser(world, "cora", Role.ADMIN.value, at_desk=False)
    for method, path, route in _page_routes(Desk):
        for who, browser in (("nobody", _browser(world.client)), ("console only", console_only)):
            r = _call(browser, method, path, route, world.params)
            assert r.status_code == 303 and r.headers["location"] == "/desk/login", (
                method,
                path,
                who,
                r.status_code,
            )


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_console_pages_follow_the_roles(world: World, role: str) -> None:
    member = _staff_browser(world, f"m-{role.replace('_', '-')}", role, at_desk=False)
    csrf = re.search(r'name="csrf" value="([^"]+)"', member.get("/console/").text)
    assert csrf
    failures = []
    for method, path, route in _page_routes(Console):
        if path == "/console/logout":
            continue  # would end the session the other calls use
        rule = TABLE[(method, path)]
        assert isinstance(rule, Console)
        r = _call(member, method, path, route, world.params, {"csrf": csrf.group(1)})
        refused = r.status_code == 403
        if may(role, rule.permission) == refused:
            failures.append(f"{method} {path} as {role}: {r.status_code}")
    assert failures == []
    nobody = _browser(world.client)
    for method, path, route in _page_routes(Console):
        r = _call(nobody, method, path, route, world.params)
        assert r.status_code == 303 and r.headers["location"] == "/console/login", (method, path)
