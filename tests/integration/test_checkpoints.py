"""The evidence log's heads as C2SP checkpoints: signed notes any transparency-log tool reads."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from pydantic import ValidationError

from consentry.domain.merkle import verify_consistency
from consentry.domain.notes import (
    COSIGNATURE_V1,
    ED25519,
    Note,
    NoteKey,
    cosign,
    parse_checkpoint,
    parse_note,
    sign,
    verify,
)
from consentry.settings import Settings
from tests.helpers import change, make_customer, make_purpose, witnessed_settings


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


# -- witnesses' cosignatures

WITNESS = Ed25519PrivateKey.generate()
WITNESS_KEY = NoteKey.of("witness.example/w1", COSIGNATURE_V1, WITNESS)
STRANGER = Ed25519PrivateKey.generate()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return witnessed_settings(tmp_path, database_url, WITNESS_KEY.vkey())


def _cosigned(served: str, key: Ed25519PrivateKey, name: str, at: int | None = None) -> str:
    note = parse_note(served)
    stamp = at if at is not None else int(time.time())
    return note.with_signatures([cosign(note.text, name, key, stamp)]).render()


def test_a_configured_witness_cosigns_and_the_checkpoint_carries_it(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    change(client, cid)
    served = client.get("/v1/evidence/checkpoint").text
    assert len(parse_note(served).signatures) == 1  # the log's own, nothing cosigned yet

    body = _cosigned(served, WITNESS, "witness.example/w1")
    answer = client.post("/v1/evidence/cosignatures", content=body, headers={"Authorization": ""})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"size": 1, "witnesses": ["witness.example/w1"]}
    note = parse_note(client.get("/v1/evidence/checkpoint").text)
    log_key = NoteKey.parse(client.get("/v1/evidence/checkpoint-key").text)
    assert verify(note, [WITNESS_KEY])[0][0] == WITNESS_KEY
    assert verify(note, [log_key])[0][0] == log_key

    # A new head is a new checkpoint: it carries a cosignature once a witness cosigned it.
    change(client, cid, action="withdraw")
    newer = parse_note(client.get("/v1/evidence/checkpoint").text)
    assert parse_checkpoint(newer.text).size == 2 and len(newer.signatures) == 1


def test_cosignatures_that_prove_nothing_are_refused(client: TestClient) -> None:
    make_purpose(client)
    change(client, make_customer(client))
    served = client.get("/v1/evidence/checkpoint").text
    text = parse_note(served).text

    def post(body: str) -> int:
        return client.post("/v1/evidence/cosignatures", content=body).status_code

    assert post(_cosigned(served, STRANGER, "witness.example/w1")) == 403  # not its key
    assert post(_cosigned(served, STRANGER, "stranger.example/w9")) == 403  # unknown witness
    # A checkpoint this log never signed (another log's key), cosigned by the real witness.
    other_log = Note(text, (sign(text, "127.0.0.1:8000/evidence", STRANGER),))
    assert post(_cosigned(other_log.render(), WITNESS, "witness.example/w1")) == 403
    future = int(time.time()) + 3600
    assert post(_cosigned(served, WITNESS, "witness.example/w1", at=future)) == 422
    assert post("not a note") == 422
    assert post("") == 422
    assert len(parse_note(client.get("/v1/evidence/checkpoint").text).signatures) == 1


def test_a_witness_key_that_is_not_a_cosigner_key_stops_the_start() -> None:
    log_key = NoteKey.of("w.example/x", ED25519, WITNESS).vkey()
    for bad, says in ((log_key, "cosigner"), ("w.example/x+00000000+AAAA", "CONSENTRY_WITNESSES")):
        with pytest.raises(ValidationError, match=says):
            Settings(witnesses=[bad])
