"""Collection points on both engines: made without pre-ticked boxes, versioned, their form
read with the publishable key, submissions recorded whole as evidence of what was shown (a
refusal for each box left unticked), refused whole when they name another version or notice,
CORS only for the point's origins, and rates k-anonymous per version and wording."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from consentry.services.hub import Hub
from tests.helpers import check, make_purpose

SHOP = "https://shop.example.com"


def _point(client: TestClient, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Checkout",
        "placement": "web",
        "identify_by": "email",
        "origins": [SHOP],
        "languages": ["en", "de"],
        "boxes": [
            {"purpose": "newsletter", "channel": "email"},
            {"purpose": "partner_offers", "channel": "email"},
        ],
        "wordings": [
            {
                "name": "a",
                "heading": {"en": "Stay in touch", "de": "In Kontakt bleiben"},
                "labels": [
                    {"en": "E-mail me offers", "de": "Angebote per E-Mail"},
                    {"en": "Partners' offers too", "de": "Auch Partnerangebote"},
                ],
                "submit": {"en": "Save", "de": "Speichern"},
            }
        ],
        **overrides,
    }
    made = client.post("/v1/collection-points", json=body)
    assert made.status_code == 201, made.text
    return dict(made.json())


def _purposes(client: TestClient) -> None:
    make_purpose(client)
    make_purpose(
        client,
        id="partner_offers",
        title="Offers from our partners",
        description="We pass partner offers on to you.",
        channels=["email", "post"],
    )


def _submission(
    point: dict[str, Any], newsletter: bool, partners: bool, **more: Any
) -> dict[str, Any]:
    return {
        "version": point["version"],
        "wording": "a",
        "lang": "de",
        "identifiers": {"email": "ann@example.com"},
        "choices": [
            {
                "purpose": "newsletter",
                "channel": "email",
                "notice_version": 1,
                "chosen": newsletter,
            },
            {
                "purpose": "partner_offers",
                "channel": "email",
                "notice_version": 1,
                "chosen": partners,
            },
        ],
        **more,
    }


def _browser(client: TestClient, point: dict[str, Any]) -> TestClient:
    public = TestClient(client.app)
    public.headers.update({"Authorization": f"Bearer {point['publishable_key']}", "Origin": SHOP})
    return public


def test_a_submission_is_evidence_of_what_was_shown_and_chosen(
    hub: Hub, client: TestClient
) -> None:
    _purposes(client)
    point = _point(client)
    assert point["embed"].startswith("<script src=") and point["publishable_key"] in point["embed"]
    browser = _browser(client, point)
    form = browser.get(
        f"/v1/collection-points/{point['id']}/form",
        params={"key": point["publishable_key"], "lang": "de"},
    )
    assert form.status_code == 200 and form.headers["access-control-allow-origin"] == SHOP
    shown = form.json()
    assert (
        shown["heading"] == "In Kontakt bleiben"
        and shown["identify_label"] == "Ihre E-Mail-Adresse"
    )
    assert [b["label"] for b in shown["boxes"]] == ["Angebote per E-Mail", "Auch Partnerangebote"]
    sent = browser.post(
        f"/v1/collection-points/{point['id']}/submissions", json=_submission(point, True, False)
    )
    assert sent.status_code == 201, sent.text
    assert sent.headers["access-control-allow-origin"] == SHOP
    assert set(sent.json()) == {"id", "awaiting_confirmation"}  # nobody learns whose address
    cid = client.post("/v1/customers/lookup", json={"email": "ann@example.com"}).json()["id"]
    assert check(client, cid)["allowed"] is True
    partners = client.get(f"/v1/check?customer={cid}&purpose=partner_offers&channel=email").json()
    assert partners["reason"] == "refused"  # left unticked: a refusal, not nothing
    records = client.get(f"/v1/customers/{cid}/consents/history").json()["records"]
    assert [r["action"] for r in records] == ["grant", "refuse"]
    proof = records[1]["proof"]
    assert proof["method"] == "collection-point" and proof["point"] == point["id"]
    assert (
        proof["version"] == 1
        and proof["wording"] == "a"
        and proof["label"] == "Auch Partnerangebote"
    )
    assert proof["origin"] == SHOP and proof["submission"] == sent.json()["id"]
    assert [(s["purpose"], s["chosen"]) for s in proof["shown"]] == [
        ("newsletter", True),
        ("partner_offers", False),
    ]
    assert all(s["notice_hash"] for s in proof["shown"])
    assert records[0]["source"] == "web" and records[0]["location"] == point["id"]
    export = client.get(f"/v1/customers/{cid}/export").json()
    assert export["submissions"][0]["ticked"] == [True, False]


def test_a_submission_is_refused_whole(hub: Hub, client: TestClient) -> None:
    _purposes(client)
    point = _point(client)
    browser = _browser(client, point)
    url = f"/v1/collection-points/{point['id']}/submissions"
    wrong_notice = _submission(point, True, True)
    wrong_notice["choices"][1]["notice_version"] = 2
    unshown = _submission(point, True, True)
    unshown["choices"][1]["purpose"] = "maternity"
    missing = _submission(point, True, True)
    missing["choices"].pop()
    for body, status, said in (
        (wrong_notice, 422, "showed notice version 1"),
        (unshown, 422, "does not show 'maternity'"),
        (missing, 422, "left unticked"),
        ({**_submission(point, True, True), "version": 2}, 409, "version 2"),
        ({**_submission(point, True, True), "customer": "cus_x"}, 422, "app key"),
        ({**_submission(point, True, True), "identifiers": {"loyalty_card": "1"}}, 422, "email"),
    ):
        refused = browser.post(url, json=body)
        assert refused.status_code == status and said in refused.text, refused.text
    assert client.post("/v1/customers/lookup", json={"email": "ann@example.com"}).status_code == 404
    other_site = TestClient(client.app)
    other_site.headers.update(
        {"Authorization": f"Bearer {point['publishable_key']}", "Origin": "https://evil.example"}
    )
    blocked = other_site.post(url, json=_submission(point, True, True))
    assert blocked.status_code == 403 and "access-control-allow-origin" not in blocked.headers
    preflight = other_site.options(url, headers={"Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 403
    ok = browser.options(url, headers={"Access-Control-Request-Method": "POST"})
    assert ok.status_code == 204 and ok.headers["access-control-allow-origin"] == SHOP
    stolen = TestClient(client.app)
    stolen.headers.update({"Authorization": "Bearer pk_not_this_points", "Origin": SHOP})
    assert stolen.post(url, json=_submission(point, True, True)).status_code == 401


def test_no_box_ticked_in_advance_and_a_change_is_a_new_version(
    hub: Hub, client: TestClient
) -> None:
    _purposes(client)
    body = _point(client)
    pre = client.post(
        "/v1/collection-points",
        json={
            "name": "x",
            "placement": "store",
            "boxes": [{"purpose": "newsletter", "pre_ticked": True}],
            "wordings": [
                {
                    "name": "a",
                    "heading": {"en": "h"},
                    "labels": [{"en": "l"}],
                    "submit": {"en": "s"},
                }
            ],
        },
    )
    assert pre.status_code == 422 and "Planet49" in pre.text
    by_phone = {k: body[k] for k in ("name", "placement", "origins", "languages", "wordings")}
    boxes = [{"purpose": b["purpose"], "channel": b["channel"]} for b in body["boxes"]]
    by_phone |= {"name": "phone", "identify_by": "phone", "boxes": boxes}
    refused = client.post("/v1/collection-points", json=by_phone)
    assert refused.status_code == 422 and "identify_by: email" in refused.text
    nowhere = TestClient(client.app)
    nowhere.headers["Authorization"] = f"Bearer {body['publishable_key']}"
    assert nowhere.post("/v1/collection-points/cp_none/submissions", json={}).status_code == 401
    changed = {k: body[k] for k in ("name", "placement", "identify_by", "origins", "languages")}
    changed["boxes"] = [{"purpose": "newsletter", "channel": "email"}]
    changed["wordings"] = [
        {
            "name": "a",
            "heading": body["wordings"][0]["heading"],
            "labels": [body["wordings"][0]["labels"][0]],
            "submit": body["wordings"][0]["submit"],
        }
    ]
    v2 = client.put(f"/v1/collection-points/{body['id']}", json=changed).json()
    assert v2["version"] == 2 and len(v2["boxes"]) == 1
    assert client.put(f"/v1/collection-points/{body['id']}", json=changed).json()["version"] == 2
    old = _browser(client, body).post(
        f"/v1/collection-points/{body['id']}/submissions", json=_submission(body, True, True)
    )
    assert old.status_code == 409  # a form of version 1, still open in a tab


def test_an_app_names_the_customer_and_rates_are_k_anonymous(hub: Hub, client: TestClient) -> None:
    _purposes(client)
    point = _point(client, placement="store", identify_by=None, origins=[])
    url = f"/v1/collection-points/{point['id']}/submissions"
    for n in range(14):
        cid = client.post("/v1/customers", json={}).json()["id"]
        body = _submission(point, n < 11, n < 2, customer=cid)
        body.pop("identifiers")
        done = client.post(url, json=body)
        assert done.status_code == 201 and done.json()["customer"] == cid, done.text
        assert check(client, cid)["allowed"] is (n < 11)
    rates = client.get(f"/v1/collection-points/{point['id']}/rates").json()
    [row] = rates["rows"]
    assert row["submissions"] == 14
    newsletter, partners = row["boxes"]
    assert newsletter["ticked"] is None  # 11 ticked, but 3 did not: fewer than 10 either way
    assert partners["ticked"] is None and partners["rate"] is None
    key = client.post(
        "/v1/apps", json={"name": "till", "scopes": ["consents:write"], "purposes": ["newsletter"]}
    ).json()["key"]
    till = TestClient(client.app)
    till.headers["Authorization"] = f"Bearer {key}"
    body = _submission(point, True, True, customer=cid)
    body.pop("identifiers")
    assert till.post(url, json=body).status_code == 403  # not bound to partner_offers
