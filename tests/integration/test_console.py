"""The console through the real app on both engines: roles (a marketer cannot create apps or
see keys), every change recorded with who and what, notice diffs with customers per version,
sessions apart from the desk's, a full verification that passes and then catches tampering,
and insights pages that never show a segment of nine customers."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from consentry.cli.main import app as cli
from consentry.services import desk, insights
from consentry.services.hub import Hub
from consentry.store import console as store
from consentry.store.tables import console_actions, evidence_records, log_leaves
from tests.helpers import change, make_customer, make_purpose
from tests.integration.test_import import point_cli_at

PASSWORD = "correct horse battery"
DAY = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def _member(hub: Hub, username: str, role: str | None, desk_name: str | None = None) -> None:
    location = "store-01-london" if desk_name else None
    desk.add_staff(hub, username, username.title(), PASSWORD, desk_name, location, role)


def _sign_in(client: TestClient, username: str) -> tuple[TestClient, str]:
    browser = TestClient(client.app)
    r = browser.post(
        "/console/login",
        data={"username": username, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/", r.text
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/console" in cookie
    found = re.search(r'name="csrf" value="([^"]+)"', browser.get("/console/").text)
    assert found
    return browser, found.group(1)


def _post(browser: TestClient, path: str, csrf: str, **form: Any) -> Any:
    return browser.post(path, data={"csrf": csrf, **form}, follow_redirects=False)


NEW_PURPOSE = {
    "purpose_id": "loyalty_mail",
    "title": "Loyalty letters",
    "description": "We post you your points statement four times a year.",
    "legal_basis": "consent",
    "channels": "post",
}


def test_roles_decide_what_each_member_may_do(hub: Hub, client: TestClient) -> None:
    for name, role in (
        ("ada", "admin"),
        ("pia", "privacy_officer"),
        ("mo", "marketer"),
        ("rita", "read_only"),
    ):
        _member(hub, name, role)
    make_purpose(client)
    apps_before = len(client.get("/v1/apps").json()["apps"])

    marketer, csrf = _sign_in(client, "mo")
    assert "Apps and keys" not in marketer.get("/console/").text
    refused = marketer.get("/console/apps")
    assert refused.status_code == 403 and "Marketer" in refused.text
    made = _post(marketer, "/console/apps", csrf, name="sneaky", scopes=["consents:read"])
    assert made.status_code == 403 and "csk_" not in made.text
    assert marketer.get("/console/staff").status_code == 403
    assert _post(marketer, "/console/purposes", csrf, **NEW_PURPOSE).status_code == 403
    assert marketer.get("/console/insights").status_code == 200
    assert marketer.get("/console/offers").status_code == 200

    reader, csrf = _sign_in(client, "rita")
    assert reader.get("/console/apps").status_code == 200  # the list, without keys
    assert _post(reader, "/console/purposes", csrf, **NEW_PURPOSE).status_code == 403
    assert _post(reader, "/console/evidence/verify", csrf).status_code == 403

    officer, csrf = _sign_in(client, "pia")
    assert _post(officer, "/console/purposes", csrf, **NEW_PURPOSE).status_code == 303
    assert (
        _post(officer, "/console/apps", csrf, name="x", scopes=["consents:read"]).status_code == 403
    )
    assert len(client.get("/v1/apps").json()["apps"]) == apps_before

    admin, csrf = _sign_in(client, "ada")
    created = _post(
        admin,
        "/console/apps",
        csrf,
        name="mailer",
        scopes=["consents:read"],
        purposes=["newsletter"],
    )
    assert created.status_code == 201 and created.headers["cache-control"] == "no-store"
    key = re.search(r'id="new-key">(csk_[^<]+)<', created.text)
    assert key, created.text
    api = TestClient(client.app)
    api.headers["Authorization"] = f"Bearer {key.group(1)}"
    assert api.get("/v1/purposes").status_code == 200
    # Shown once: not on the next visit, not to anyone else.
    assert key.group(1) not in admin.get("/console/apps").text
    assert key.group(1) not in reader.get("/console/apps").text
    app_id = next(a["id"] for a in client.get("/v1/apps").json()["apps"] if a["name"] == "mailer")
    assert _post(admin, f"/console/apps/{app_id}/revoke", csrf).status_code == 303
    assert api.get("/v1/purposes").status_code == 401
    # The console never makes admin keys, and a bad form says what is wrong.
    bad = _post(admin, "/console/apps", csrf, name="root", scopes=["admin"])
    assert bad.status_code == 422 and "CONSENTRY_ADMIN_KEY" in bad.text


def test_every_change_is_recorded_and_visible(hub: Hub, client: TestClient) -> None:
    _member(hub, "ada", "admin")
    admin, csrf = _sign_in(client, "ada")
    assert _post(admin, "/console/purposes", csrf, **NEW_PURPOSE).status_code == 303
    published = _post(
        admin,
        "/console/purposes/loyalty_mail/notice",
        csrf,
        title="Loyalty letters",
        description="We post you your points statement twice a year.",
        reconsent="true",
    )
    assert published.status_code == 303
    created = _post(admin, "/console/apps", csrf, name="crm", scopes=["customers:read"])
    key = re.search(r'id="new-key">(csk_[^<]+)<', created.text)
    assert key
    added = _post(
        admin,
        "/console/staff",
        csrf,
        username="lee",
        display_name="Lee Park",
        password="another long password",
        role="marketer",
    )
    assert added.status_code == 303
    lee = next(s for s in admin.get("/console/staff").text.split("<tr>") if "lee" in s)
    lee_id = re.search(r"/console/staff/(stf_[^/]+)/disable", lee)
    assert lee_id
    assert _post(admin, f"/console/staff/{lee_id.group(1)}/disable", csrf).status_code == 303
    with hub.db.read() as conn:
        rows = list(conn.execute(select(console_actions).order_by(console_actions.c.pk)))
    assert [r.action for r in rows] == [
        "signed_in",
        "purpose.created",
        "notice.published",
        "app.created",
        "staff.added",
        "staff.disabled",
    ]
    assert {r.username for r in rows} == {"ada"} and {r.role for r in rows} == {"admin"}
    assert rows[2].detail == {"version": 2, "reconsent": True}
    everything = str([tuple(r) for r in rows])
    assert key.group(1) not in everything and "another long password" not in everything
    page = admin.get("/console/activity").text
    for action in ("purpose.created", "notice.published", "app.created", "staff.disabled"):
        assert action in page
    # Lee, disabled, cannot sign in; a bad form changes nothing and says why.
    r = TestClient(client.app).post(
        "/console/login", data={"username": "lee", "password": "another long password"}
    )
    assert r.status_code == 401
    short = _post(
        admin, "/console/staff", csrf, username="kim", display_name="Kim", password="short"
    )
    assert short.status_code == 422 and "12 characters" in short.text


def test_notice_versions_show_a_diff_and_customers_per_version(
    hub: Hub, client: TestClient
) -> None:
    _member(hub, "pia", "privacy_officer")
    make_purpose(client)
    for _ in range(12):
        assert change(client, make_customer(client)).status_code == 201
    officer, csrf = _sign_in(client, "pia")
    same = _post(
        officer,
        "/console/purposes/newsletter/notice",
        csrf,
        title="Newsletter and offers",
        description=client.get("/v1/purposes/newsletter").json()["description"],
    )
    assert same.status_code == 422 and "unchanged" in same.text
    r = _post(
        officer,
        "/console/purposes/newsletter/notice",
        csrf,
        title="Newsletter and offers",
        description="We e-mail you our offers, at most once a month.",
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?published=2")
    for _ in range(3):
        assert change(client, make_customer(client), version=2).status_code == 201
    page = officer.get("/console/purposes/newsletter").text
    assert "<del>twice </del><ins>once </ins>" in page.replace("\n", "")
    v2, v1 = page.split('id="v2"')[1].split('id="v1"')
    assert "fewer than 10 customers" in v2 and "12 customers" in v1


def test_desk_and_console_sessions_are_apart(hub: Hub, client: TestClient) -> None:
    _member(hub, "sam", None, "store")  # a clerk: desk only
    _member(hub, "ada", "admin")  # console only
    browser = TestClient(client.app)
    for path, name in (("/console/login", "sam"), ("/desk/login", "ada")):
        r = browser.post(path, data={"username": name, "password": PASSWORD})
        assert r.status_code == 401, (path, name)
    admin, csrf = _sign_in(client, "ada")
    assert _post(admin, "/console/purposes", "not-the-token", **NEW_PURPOSE).status_code == 403
    # A console cookie opens no desk page, and a desk cookie no console page.
    token = admin.cookies.get("consentry_console")
    stranger = TestClient(client.app)
    stranger.cookies.set("consentry_desk", token or "", path="/desk")
    assert stranger.get("/desk/", follow_redirects=False).headers["location"] == "/desk/login"
    assert _post(admin, "/console/logout", csrf).status_code == 303
    assert admin.get("/console/", follow_redirects=False).headers["location"] == "/console/login"


def test_staff_with_console_roles_come_from_the_command_line(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    point_cli_at(hub, monkeypatch)
    args = ["staff", "add", "pia", "--name", "Pia Holm", "--desk", "none", "--role"]
    ok = runner.invoke(cli, [*args, "privacy_officer", "--password-stdin"], PASSWORD + "\n")
    assert ok.exit_code == 0, ok.output
    assert "no desk, console role privacy_officer" in ok.output
    bad_args = ["staff", "add", "bo", "--name", "Bo", "--desk", "none", "--role", "boss"]
    bad = runner.invoke(cli, [*bad_args, "--password-stdin"], PASSWORD + "\n")
    assert bad.exit_code != 0 and "unknown role 'boss'" in bad.output


def _wait_for(browser: TestClient, path: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        block = browser.get(path + "/progress").text
        if "hx-trigger" not in block:
            return block
        time.sleep(0.1)
    raise AssertionError("the verification did not finish")


def test_a_full_verification_passes_then_catches_tampering(hub: Hub, client: TestClient) -> None:
    _member(hub, "pia", "privacy_officer")
    make_purpose(client)
    for _ in range(5):
        assert change(client, make_customer(client)).status_code == 201
    officer, csrf = _sign_in(client, "pia")
    r = _post(officer, "/console/evidence/verify", csrf)
    assert r.status_code == 303
    path = r.headers["location"]
    page = officer.get(path).text
    assert "<progress" in page and "of 5 records" in page
    assert "The log verifies" in _wait_for(officer, path)
    # Someone edits a stored record behind the hub's back.
    with hub.db.write() as conn:
        third = select(log_leaves.c.record_pk).where(log_leaves.c.seq == 2).scalar_subquery()
        first = conn.execute(select(evidence_records).where(evidence_records.c.pk == third)).one()
        altered = first.leaf.replace(b'"grant"', b'"withdraw"')
        assert altered != first.leaf
        conn.execute(
            update(evidence_records).where(evidence_records.c.pk == first.pk).values(leaf=altered)
        )
    again = _post(officer, "/console/evidence/verify", csrf).headers["location"]
    block = _wait_for(officer, again)
    assert "does not verify" in block and f"record {first.id} was altered" in block
    listing = officer.get("/console/evidence").text
    assert "passed" in listing and "failed" in listing
    assert "failed" in officer.get("/console/").text
    # One at a time: while one runs, "verify" shows it instead of starting another.
    with hub.db.write() as conn:
        store.start_verification(conn, "vrf_running", hub.now_micros(), "pia", 5)
    watched = _post(officer, "/console/evidence/verify", csrf).headers["location"]
    assert watched.endswith("/vrf_running")
    # One whose process ended (unfinished after an hour) says so, and is no longer polled.
    with hub.db.write() as conn:
        store.start_verification(conn, "vrf_old", hub.now_micros() - 7_200_000_000, "pia", 5)
    block = officer.get("/console/evidence/verifications/vrf_old/progress").text
    assert "It stopped" in block and "hx-trigger" not in block


def test_the_insights_page_never_shows_a_segment_of_nine(hub: Hub, client: TestClient) -> None:
    """Nine customers grant by phone, ten on the web: the chart, its table and its CSV show the
    ten and hide the nine."""
    _member(hub, "mo", "marketer")
    make_purpose(client, id="ad_sharing", title="Ads", channels=["ads"])  # first, and no data
    make_purpose(client)
    for n in range(19):
        cid = make_customer(client)
        extra: dict[str, Any] = {"captured_at": (DAY + timedelta(minutes=n)).isoformat()}
        if n < 9:
            extra.update(source="call_centre", actor={"type": "staff", "id": "agent-7"})
        assert change(client, cid, **extra).status_code == 201
    hub.outbox.integrate_all()
    insights.count_new(hub)
    marketer, _csrf = _sign_in(client, "mo")
    params = {
        "from": "2026-11-01",
        "to": "2026-11-30",
        "purpose": "newsletter",
        "channel": "email",
        "period": "day",
    }
    page = marketer.get("/console/insights", params=params)
    assert page.status_code == 200
    html = page.text
    assert "grants via Web, 20 Nov: 10</title>" in html
    svg = html.split("<svg")[1].split("</svg>")[0]
    assert "via Call centre" not in svg  # no bar for the nine
    row = re.search(r"<tr><td>2026-11-20</td>(.*?)</tr>", html)
    assert row, html
    cells = re.findall(r"<td>([^<]*)</td>", row.group(1))
    assert "10" in cells and "fewer than 10" in cells and "9" not in cells
    assert "1 cells of fewer than 10 customers are hidden" in html
    csv = marketer.get("/console/insights/consent-flows.csv", params=params).text.splitlines()
    assert "day,2026-11-20,newsletter,email,call_centre,grant,<10" in csv
    assert not any(line.endswith(",9") for line in csv)
    quiet = marketer.get("/console/insights", params={**params, "from": "2026-11-21"})
    assert "Nothing to draw: nobody granted or withdrew" in quiet.text
    # Opened without a choice: the purpose with the most to show, per week.
    opened = marketer.get("/console/insights", params={"from": "2026-11-01", "to": "2026-11-30"})
    assert '<option value="newsletter" selected' in opened.text
    assert '<option value="week" selected' in opened.text
    bad = marketer.get("/console/insights", params={**params, "to": "2026-10-01"})
    assert bad.status_code == 422 and "ends before it starts" in bad.text


QUESTIONS = """\
questions:
  - id: favourite_colour
    text: What's your favourite colour?
    kind: single_choice
    options: [{value: red, label: Red}, {value: blue, label: Blue}]
    topic: style
    stage: 1
    points: 10
    channels: [web]
"""


def test_marketers_load_files_and_retire_questions_and_offers(hub: Hub, client: TestClient) -> None:
    from tests.integration.test_offer_files import CATALOGUE

    _member(hub, "mo", "marketer")
    _member(hub, "rita", "read_only")
    marketer, csrf = _sign_in(client, "mo")

    def upload(path: str, text: str, who: TestClient = marketer, token: str = csrf) -> Any:
        files = {"file": ("file.yaml", text.encode(), "application/yaml")}
        return who.post(path, data={"csrf": token}, files=files, follow_redirects=False)

    bad = upload("/console/questions/file", QUESTIONS.replace("stage: 1", "stage: 9"))
    assert bad.status_code == 422 and "Nothing was loaded" in bad.text
    stage = "line 7: questions[0](favourite_colour).stage: Input should be 1, 2 or 3"
    assert stage in bad.text
    assert client.get("/v1/questions").json()["questions"] == []
    good = upload("/console/questions/file", QUESTIONS)
    assert good.status_code == 200 and "1 questions created" in good.text
    r = _post(marketer, "/console/questions/favourite_colour/retire", csrf)
    assert r.status_code == 303
    assert client.get("/v1/questions/favourite_colour").json()["active"] is False

    refused = upload(
        "/console/offers/file",
        CATALOGUE.replace("channels: [email], every", "channels: [fax], every"),
    )
    assert refused.status_code == 422 and "line 11: offers[1](shoes).channels.0" in refused.text
    loaded = upload("/console/offers/file", CATALOGUE)
    assert loaded.status_code == 200 and "2 offers created" in loaded.text
    assert _post(marketer, "/console/offers/socks/retire", csrf).status_code == 303
    assert client.get("/v1/offers/socks").json()["active"] is False

    reader, reader_csrf = _sign_in(client, "rita")
    assert upload("/console/offers/file", CATALOGUE, reader, reader_csrf).status_code == 403
    assert _post(reader, "/console/offers/shoes/retire", reader_csrf).status_code == 403
    assert "Load the catalogue" not in reader.get("/console/offers").text
    with hub.db.read() as conn:
        done = [
            r.action for r in conn.execute(select(console_actions).order_by(console_actions.c.pk))
        ]
    assert [a for a in done if a != "signed_in"] == [
        "questions.loaded",
        "question.retired",
        "catalogue.loaded",
        "offer.retired",
    ]
