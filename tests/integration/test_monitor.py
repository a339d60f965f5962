"""The monitor keeps a copy of the log, fetches only what is new, and names a rewrite: which
record changed and how, and the two signed checkpoints that disagree."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from consentry.client.monitor import RECORDS, Rewritten, monitor_once
from consentry.domain.notes import NoteKey
from consentry.settings import Settings
from tests.forgery import rewrite_record
from tests.helpers import change, make_customer, make_purpose


def _grow(client: TestClient, customer: str, actions: str) -> list[str]:
    return [
        change(client, customer, action=action).json()["record"]["id"] for action in actions.split()
    ]


def test_the_copy_grows_by_what_is_new_and_a_rewrite_is_named(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    make_purpose(client)
    cid = make_customer(client)
    log_key = NoteKey.parse(client.get("/v1/evidence/checkpoint-key").text)
    state = tmp_path / "monitor"
    records = _grow(client, cid, "grant withdraw grant")
    assert monitor_once(client, state, log_key).new == 3
    records += _grow(client, cid, "withdraw grant")
    again = monitor_once(client, state, log_key)
    assert (again.size, again.new) == (5, 2)
    assert (state / RECORDS).read_bytes().count(b"\n") == 5
    assert monitor_once(client, state, log_key).new == 0

    # A round that crashed after writing records but before moving the tree on: cut off.
    with open(state / RECORDS, "ab") as half:
        half.write(b'{"half a record')
    assert monitor_once(client, state, log_key).new == 0
    assert (state / RECORDS).read_bytes().endswith(b"}\n")

    seen = (state / "checkpoint").read_text()
    assert rewrite_record(settings, 1) == records[1]
    _grow(client, cid, "withdraw")
    with pytest.raises(Rewritten) as caught:
        monitor_once(client, state, log_key)
    rewrite = caught.value
    assert "does not extend the 5 records copied" in rewrite.reason
    assert rewrite.changes == [f"record 1 ({records[1]}): action 'withdraw' -> 'grant'"]
    assert rewrite.seen == seen and "\n6\n" in rewrite.shown
    assert (state / "checkpoint").read_text() == seen  # the copy keeps what it verified


def test_a_rewrite_without_growth_is_named(
    client: TestClient, settings: Settings, tmp_path: Path
) -> None:
    make_purpose(client)
    cid = make_customer(client)
    _grow(client, cid, "grant withdraw")
    log_key = client.get("/v1/evidence/checkpoint-key").text.strip()
    state = tmp_path / "monitor"
    monitor_once(client, state, NoteKey.parse(log_key))
    rewrite_record(settings, 0)
    with pytest.raises(Rewritten) as caught:
        monitor_once(client, state, NoteKey.parse(log_key))
    assert "does not extend the 2 records copied" in caught.value.reason
    assert caught.value.changes and "action 'grant' -> 'withdraw'" in caught.value.changes[0]
