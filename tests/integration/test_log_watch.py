"""Every app a witness: the client's LogWatch believes a checkpoint only once a consistency
proof ties it to the last one it saw, in either order, and remembers across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from consentry.client.watch import BadCheckpoint, ForkDetected, LogWatch, ProofNeeded
from consentry.domain.notes import (
    ED25519,
    Checkpoint,
    Note,
    NoteKey,
    parse_checkpoint,
    parse_note,
    sign,
)
from consentry.services.hub import Hub
from tests.helpers import change, make_customer, make_purpose


def _checkpoint(client: TestClient) -> str:
    return str(client.get("/v1/evidence/checkpoint").text)


def _settle(client: TestClient, watch: LogWatch, shown: str) -> None:
    needed = watch.examine(shown)
    if isinstance(needed, ProofNeeded):
        proof = client.get(
            "/v1/evidence/consistency", params={"from": needed.smaller, "to": needed.larger}
        ).json()["proof"]
        watch.settle(shown, [bytes.fromhex(h) for h in proof])


def _grow(client: TestClient, customer: str, n: int) -> None:
    for i in range(n):
        assert change(client, customer, action=("withdraw", "grant")[i % 2]).status_code == 201


def test_growth_is_believed_and_remembered(client: TestClient, tmp_path: Path) -> None:
    make_purpose(client)
    cid = make_customer(client)
    log_key = client.get("/v1/evidence/checkpoint-key").text
    state = tmp_path / "seen"
    watch = LogWatch(log_key, state)
    _grow(client, cid, 3)
    older = _checkpoint(client)
    _settle(client, watch, older)
    _grow(client, cid, 4)
    newer = _checkpoint(client)
    _settle(client, watch, newer)
    assert watch.size == 7 and state.read_text() == newer
    _settle(client, watch, older)  # a node behind the others: proven, not kept
    assert watch.size == 7
    assert LogWatch(log_key, state).size == 7  # an app restarted remembers


def test_a_fork_is_named_and_a_stranger_refused(client: TestClient, hub: Hub) -> None:
    make_purpose(client)
    cid = make_customer(client)
    log_key = client.get("/v1/evidence/checkpoint-key").text
    _grow(client, cid, 4)
    watch = LogWatch(log_key)
    real = _checkpoint(client)
    _settle(client, watch, real)
    origin = parse_checkpoint(parse_note(real).text).origin

    def signed(size: int, root: bytes) -> str:
        text = Checkpoint(origin, size, root).text()
        return Note(text, (hub.signer.sign_note(text, origin),)).render()

    with pytest.raises(ForkDetected, match="two different trees of 4") as same_size:
        watch.examine(signed(4, bytes(32)))
    assert same_size.value.seen == real
    with pytest.raises(ForkDetected, match="does not extend the tree of 2"):
        _settle(client, watch, signed(2, bytes(32)))
    _grow(client, cid, 1)
    assert "\n5\n" in _checkpoint(client)  # the hub's own tree of 5, which the proof is from
    other = signed(5, bytes([1]) * 32)
    with pytest.raises(ForkDetected, match="tree of 5 records does not extend the tree of 4"):
        _settle(client, watch, other)
    assert watch.last == real
    stranger = Ed25519PrivateKey.generate()
    text = Checkpoint(origin, 9, bytes(32)).text()
    unsigned = Note(text, (sign(text, origin, stranger),)).render()
    with pytest.raises(BadCheckpoint):
        watch.examine(unsigned)
    elsewhere = LogWatch(NoteKey.of("other.example/log", ED25519, stranger).vkey())
    with pytest.raises(BadCheckpoint):
        elsewhere.examine(real)
