"""The evidence log's heads as C2SP checkpoints: signed notes any transparency-log tool reads."""

from __future__ import annotations

import base64

from fastapi.testclient import TestClient

from consentry.domain.merkle import verify_consistency
from consentry.domain.notes import ED25519, NoteKey, parse_checkpoint, parse_note, verify
from tests.helpers import change, make_customer, make_purpose


def test_the_checkpoint_is_the_signed_head_in_the_open_format(client: TestClient) -> None:
    vkey = client.get("/v1/evidence/checkpoint-key", headers={"Authorization": ""})
    assert vkey.status_code == 200 and vkey.headers["content-type"].startswith("text/plain")
    key = NoteKey.parse(vkey.text)
    assert (
        key.kind == ED25519 and key.name == "127.0.0.1:8000/evidence"
    )  # the public URL + /evidence

    make_purpose(client)
    cid = make_customer(client)
    for action in ("grant", "withdraw", "grant"):
        change(client, cid, action=action)
    first = client.get("/v1/evidence/checkpoint")
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/plain")
    note = parse_note(first.text)
    assert [k for k, _ in verify(note, [key])] == [key]
    checkpoint = parse_checkpoint(note.text)
    head = client.get("/v1/evidence/head").json()
    assert checkpoint.origin == key.name
    assert checkpoint.size == head["size"] == 3
    assert checkpoint.root.hex() == head["root_hash"]

    change(client, cid, action="withdraw")
    later = parse_checkpoint(parse_note(client.get("/v1/evidence/checkpoint").text).text)
    assert later.size == 4
    proof = client.get("/v1/evidence/consistency", params={"from": 3, "to": 4}).json()
    assert verify_consistency(
        3, 4, checkpoint.root, later.root, [bytes.fromhex(p) for p in proof["proof"]]
    )
    assert base64.b64encode(later.root).decode() in client.get("/v1/evidence/checkpoint").text


def test_the_checkpoint_needs_a_key(client: TestClient) -> None:
    answer = client.get("/v1/evidence/checkpoint", headers={"Authorization": ""})
    assert answer.status_code == 401
