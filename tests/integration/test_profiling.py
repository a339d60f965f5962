"""Progressive profiling through the API, on SQLite and PostgreSQL: the bank, the next
question, answers and declines, "stop asking me", points (also under concurrency), bad input,
erasure, retention and the question file loader."""

from __future__ import annotations

import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.services import profiling, retention
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import answers, points_entries
from consentry.store.tables import profiling as asking_table
from tests.helpers import make_customer, make_purpose

ADMIN = Caller("t", "t", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
PREFERENCES = {
    "id": "preferences",
    "title": "Ask me about my preferences",
    "description": "Now and then one short question, rewarded with points.",
    "legal_basis": "consent",
    "channels": [],
}
COLOUR = {
    "id": "favourite_colour",
    "text": {"en": "What's your favourite colour?", "de": "Ihre Lieblingsfarbe?"},
    "kind": "single_choice",
    "options": [
        {"value": "red", "label": {"en": "Red", "de": "Rot"}},
        {"value": "blue", "label": "Blue"},
    ],
    "topic": "style",
    "stage": 1,
    "points": 10,
    "channels": ["web", "store"],
}
SAVING = {
    "id": "saving_for",
    "text": "Anything you are saving up for?",
    "kind": "free_text",
    "max_length": 20,
    "topic": "shopping",
    "stage": 1,
    "points": 25,
    "channels": ["web"],
    "valid_days": 30,
}
WEB_CUSTOMER = {"channel": "web", "actor": {"type": "customer"}}


def _count(hub: Hub, table: Any) -> int:
    with hub.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


@pytest.fixture
def clock(hub: Hub) -> list[datetime]:
    now = [datetime(2026, 11, 22, 12, 0, tzinfo=UTC)]
    hub.clock = lambda: now[0]
    return now


def _asked_customer(client: TestClient) -> str:
    make_purpose(client, **PREFERENCES)
    for q in (COLOUR, SAVING):
        assert client.post("/v1/questions", json=q).status_code == 201
    cid = make_customer(client)
    grant = {"purpose": "preferences", "action": "grant", "notice_version": 1, "source": "web"}
    r = client.post(f"/v1/customers/{cid}/consents", json={**grant, "actor": {"type": "customer"}})
    assert r.status_code == 201, r.text
    return cid


def test_the_bank_is_managed_and_checked(client: TestClient, hub: Hub) -> None:
    assert client.post("/v1/questions", json=COLOUR).status_code == 201
    assert client.post("/v1/questions", json=COLOUR).status_code == 409
    bad = [
        ({**COLOUR, "id": "x1", "options": COLOUR["options"][:1]}, "at least two options"),
        ({**COLOUR, "id": "x2", "sensitive": True}, "stage 3"),
        ({**COLOUR, "id": "x3", "requires": [{"question": "nope"}]}, "unknown question"),
        (
            {
                **COLOUR,
                "id": "x4",
                "requires": [{"question": "favourite_colour", "answered_with": ["green"]}],
            },
            "'green'",
        ),
        ({**SAVING, "id": "x5", "kind": "yes_no"}, "max_length"),
        ({**COLOUR, "id": "x6", "channels": ["fax"]}, "channels"),
    ]
    for body, words in bad:
        r = client.post("/v1/questions", json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert words in r.text
    page = client.get("/v1/questions").json()
    assert [q["id"] for q in page["questions"]] == ["favourite_colour"]
    changed = client.put("/v1/questions/favourite_colour", json={**COLOUR, "points": 15})
    assert changed.status_code == 200 and changed.json()["points"] == 15
    assert client.delete("/v1/questions/favourite_colour").json()["active"] is False
    assert client.get("/v1/questions/favourite_colour").json()["active"] is False


def test_asking_follows_the_rules(client: TestClient, hub: Hub, clock: list[datetime]) -> None:
    cid = _asked_customer(client)
    url = f"/v1/customers/{cid}/next-question"
    first = client.get(url, params={"channel": "web", "visit": "s1", "lang": "de"})
    assert first.status_code == 200, first.text
    asked = first.json()
    assert asked["id"] == "favourite_colour" and asked["text"] == "Ihre Lieblingsfarbe?"
    assert asked["reward_points"] == 10 and asked["options"][0] == {"value": "red", "label": "Rot"}
    # The same visit sees the same question; another visit within the cool-down nothing.
    assert client.get(url, params={"channel": "web", "visit": "s1"}).json()["id"] == asked["id"]
    assert client.get(url, params={"channel": "web", "visit": "s2"}).status_code == 204
    # Answered in the visit: nothing else in it.
    body = {"question": "favourite_colour", "value": "blue", **WEB_CUSTOMER}
    assert client.post(f"/v1/customers/{cid}/answers", json=body).status_code == 200
    assert client.get(url, params={"channel": "web", "visit": "s1"}).status_code == 204
    clock[0] += timedelta(days=3)
    nxt = client.get(url, params={"channel": "web", "visit": "s3"})
    assert nxt.status_code == 200 and nxt.json()["id"] == "saving_for"
    # "Stop asking me": nothing, on any channel, until she says otherwise.
    assert client.post(f"/v1/customers/{cid}/stop-asking").json()["asking"] is False
    clock[0] += timedelta(days=30)
    assert client.get(url, params={"channel": "web", "visit": "s4"}).status_code == 204
    assert client.post(f"/v1/customers/{cid}/resume-asking").json()["asking"] is True
    assert client.get(url, params={"channel": "web", "visit": "s4"}).status_code == 200
    # Without consent to the profiling purpose: never.
    withdraw = {"purpose": "preferences", "action": "withdraw", "notice_version": 1}
    client.post(
        f"/v1/customers/{cid}/consents",
        json={**withdraw, "source": "web", "actor": {"type": "customer"}},
    )
    clock[0] += timedelta(days=30)
    assert client.get(url, params={"channel": "web", "visit": "s5"}).status_code == 204
    assert client.get(url, params={"channel": "fax"}).status_code == 422


def test_points_are_paid_once_and_spent_safely(client: TestClient, hub: Hub) -> None:
    cid = _asked_customer(client)
    answer = f"/v1/customers/{cid}/answers"
    body = {"question": "favourite_colour", "value": "red", **WEB_CUSTOMER}
    first = client.post(answer, json=body, headers={"Idempotency-Key": "a1"}).json()
    assert first["points_earned"] == 10 and first["balance"] == 10
    # A retry, an edit, a deletion and a new answer: never paid again.
    retry = client.post(answer, json=body, headers={"Idempotency-Key": "a1"})
    assert retry.headers.get("Idempotent-Replayed") == "true"
    edit = client.post(answer, json={**body, "value": "blue"}).json()
    assert edit["points_earned"] == 0 and edit["answer"]["value"] == "blue"
    assert client.delete(f"{answer}/favourite_colour").status_code == 204
    assert client.get(answer).json()["answers"][0]["status"] == "declined"
    assert client.post(answer, json=body).json()["points_earned"] == 0
    points = client.get(f"/v1/customers/{cid}/points").json()
    assert points["balance"] == 10 and len(points["entries"]) == 1
    short = client.post(f"/v1/customers/{cid}/points/redeem", json={"points": 11, "reason": "£1"})
    assert short.status_code == 409 and "insufficient-points" in short.json()["type"]
    spent = client.post(f"/v1/customers/{cid}/points/redeem", json={"points": 4, "reason": "£1"})
    assert spent.status_code == 201 and spent.json()["balance"] == 6
    assert spent.json()["entry"]["points"] == -4
    assert client.get(f"/v1/customers/{cid}/points").json()["entries"][0]["kind"] == "redeemed"


def test_bad_answers_are_refused_and_nothing_is_stored(client: TestClient, hub: Hub) -> None:
    cid = _asked_customer(client)
    url = f"/v1/customers/{cid}/answers"
    cases = [
        ({"question": "favourite_colour", "value": ["red"]}, "choose one of"),
        ({"question": "favourite_colour", "value": "green"}, "choose one of"),
        ({"question": "saving_for", "value": "x" * 21}, "at most 20 characters"),
        ({"question": "saving_for", "value": 7}, "short text"),
        ({"question": "nope", "value": "x"}, "unknown question"),
    ]
    for body, words in cases:
        r = client.post(url, json={**body, **WEB_CUSTOMER})
        assert r.status_code == 422, r.text
        assert words in r.json()["detail"]
    assert (
        client.post(url, json={"question": "favourite_colour", "value": "red"}).status_code == 422
    )
    staff_sensitive = {
        **COLOUR,
        "id": "expecting",
        "kind": "yes_no",
        "options": [],
        "stage": 3,
        "sensitive": True,
        "channels": ["web", "app"],
    }
    assert client.post("/v1/questions", json=staff_sensitive).status_code == 201
    at_till = {
        "question": "expecting",
        "value": True,
        "channel": "store",
        "actor": {"type": "staff", "id": "c1"},
    }
    r = client.post(url, json=at_till)
    assert r.status_code == 422 and "sensitive" in r.json()["detail"]
    assert _count(hub, answers) == 0 and _count(hub, points_entries) == 0
    assert client.get(f"/v1/customers/{cid}/points").json()["balance"] == 0
    assert (
        client.post(
            "/v1/customers/cus_nobody/answers", json={**cases[0][0], **WEB_CUSTOMER}
        ).status_code
        == 404
    )


def test_an_app_needs_the_profiling_purpose(client: TestClient, hub: Hub) -> None:
    cid = _asked_customer(client)
    make_purpose(client)  # the newsletter
    key = client.post(
        "/v1/apps",
        json={
            "name": "app",
            "scopes": ["preferences:read", "preferences:write"],
            "purposes": ["newsletter"],
        },
    ).json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    r = client.get(f"/v1/customers/{cid}/next-question", params={"channel": "app"}, headers=headers)
    assert r.status_code == 403
    reader = client.post("/v1/apps", json={"name": "r", "scopes": ["consents:read"]}).json()["key"]
    r = client.get(f"/v1/customers/{cid}/answers", headers={"Authorization": f"Bearer {reader}"})
    assert r.status_code == 403


def test_two_redemptions_at_once_cannot_overspend(
    client: TestClient, hub: Hub, settings: Settings
) -> None:
    """Two hubs (two connection pools, like two server processes), eight threads each trying
    to spend 30 of 100 points: exactly three succeed."""
    cid = _asked_customer(client)
    for n, q in enumerate(("favourite_colour", "saving_for")):
        client.put(f"/v1/questions/{q}", json={**(COLOUR if n == 0 else SAVING), "points": 50})
    client.post(
        f"/v1/customers/{cid}/answers",
        json={"question": "favourite_colour", "value": "red", **WEB_CUSTOMER},
    )
    client.post(
        f"/v1/customers/{cid}/answers",
        json={"question": "saving_for", "value": "a bike", **WEB_CUSTOMER},
    )
    assert client.get(f"/v1/customers/{cid}/points").json()["balance"] == 100
    other = Hub.open(settings, migrate_schema=False)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def spend(h: Hub) -> None:
        barrier.wait()
        try:
            with h.db.write() as conn:
                profiling.redeem(h, conn, cid, 30, "voucher")
            results.append("ok")
        except profiling.InsufficientPoints:
            results.append("short")

    threads = [threading.Thread(target=spend, args=(hub if i % 2 else other,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert sorted(results) == ["ok"] * 3 + ["short"] * 5
    points = client.get(f"/v1/customers/{cid}/points").json()
    assert points["balance"] == 10 and sum(e["points"] for e in points["entries"]) == 10


def test_two_answers_at_once_pay_once(client: TestClient, hub: Hub, settings: Settings) -> None:
    cid = _asked_customer(client)
    other = Hub.open(settings, migrate_schema=False)
    barrier = threading.Barrier(6)
    earned: list[int] = []

    def answer(h: Hub, value: str) -> None:
        barrier.wait()
        with h.db.write() as conn:
            given = profiling.answer(
                h,
                conn,
                ADMIN,
                cid,
                "favourite_colour",
                value,
                profiling.AskChannel.WEB,
                profiling.Actor(type="customer"),
            )
        earned.append(given["points_earned"])

    threads = [
        threading.Thread(target=answer, args=(hub if i % 2 else other, "red" if i % 3 else "blue"))
        for i in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert sorted(earned) == [0] * 5 + [10]
    assert client.get(f"/v1/customers/{cid}/points").json()["balance"] == 10


def test_erasure_and_retention_reach_answers(
    client: TestClient, hub: Hub, clock: list[datetime]
) -> None:
    cid = _asked_customer(client)
    other = make_customer(client)
    url = f"/v1/customers/{cid}/answers"
    client.post(url, json={"question": "saving_for", "value": "a bike", **WEB_CUSTOMER})
    client.post(
        f"/v1/customers/{other}/answers",
        json={"question": "favourite_colour", "value": "red", **WEB_CUSTOMER},
    )
    client.post(f"/v1/customers/{other}/stop-asking")
    clock[0] += timedelta(days=31)  # the intention has expired
    assert retention.run(hub).expired_answers == 1
    assert client.get(url).json()["answers"] == []
    assert client.delete(f"/v1/customers/{other}").status_code == 202
    assert _count(hub, answers) == 0 and _count(hub, asking_table) == 0
    assert _count(hub, points_entries) == 1  # hers (cid): the erased customer's are gone


def test_the_question_file_loader_names_lines(tmp_path: Path) -> None:
    """`consentry questions load`: a bad file is refused with the line of each problem and
    nothing stored; the demo bank loads; loading it again changes nothing."""
    env = {"CONSENTRY_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "questions:\n"
        "  - id: colour\n"
        "    text: Favourite colour?\n"
        "    kind: single_choice\n"
        "    options: [{value: red, label: Red}, {value: blue, label: Blue}]\n"
        "    topic: style\n"
        "    stage: 4\n"
        "    points: 10\n"
        "    channels: [web]\n"
        "  - id: shoe\n"
        "    text: Shoe size?\n"
        "    kind: free_text\n"
        "    topic: style\n"
        "    stage: 1\n"
        "    points: ten\n"
        "    channels: [web]\n"
    )

    def load(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "consentry.cli", "questions", "load", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = load(bad)
    assert refused.returncode == 2
    assert "line 7" in refused.stderr and "stage" in refused.stderr
    assert "line 15" in refused.stderr and "points" in refused.stderr
    assert "Traceback" not in refused.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"questions": [\n  {"id": "a",\n   "text": "x"\n')
    refused = load(broken)
    assert refused.returncode == 2 and "line" in refused.stderr
    demo = Path(__file__).parents[2] / "src" / "consentry" / "data" / "demo-questions.yaml"
    loaded = load(demo)
    assert loaded.returncode == 0, loaded.stderr
    assert "29 questions created" in loaded.stdout
    assert "29 unchanged" in load(demo).stdout
