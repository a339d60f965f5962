"""Signed notes, checkpoints and cosignatures against the C2SP specifications' own examples."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from consentry.domain.merkle import MerkleTree, leaf_hash
from consentry.domain.notes import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Note,
    NoteError,
    NoteKey,
    cosign,
    parse_checkpoint,
    parse_note,
    sign,
    verify,
)

# c2sp.org/signed-note, "Example": this verifier key verifies this note.
SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n"
    "\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3"
    "mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_the_specifications_example_note_verifies_with_its_key() -> None:
    key = NoteKey.parse(SPEC_VKEY)
    assert key.name == "example.com/foo" and key.kind == ED25519
    assert key.vkey() == SPEC_VKEY  # the key ID is computed as the spec says
    note = parse_note(SPEC_NOTE)
    assert note.text == "This is an example message.\n"
    assert [k for k, _ in verify(note, [key])] == [key]
    assert note.render() == SPEC_NOTE


def test_a_changed_text_or_a_wrong_key_id_is_refused() -> None:
    key = NoteKey.parse(SPEC_VKEY)
    forged = parse_note(SPEC_NOTE.replace("example message", "example massage"))
    with pytest.raises(NoteError, match="does not verify"):
        verify(forged, [key])
    with pytest.raises(NoteError, match="ID"):
        NoteKey.parse(SPEC_VKEY.replace("530d903a", "530d903b"))
    with pytest.raises(NoteError):
        NoteKey.parse("example.com/foo+530d903a")


def test_a_verifier_key_whose_base64_holds_plus_signs_parses() -> None:
    for _ in range(50):
        key = NoteKey.of("hub.example/log", ED25519, Ed25519PrivateKey.generate())
        assert NoteKey.parse(key.vkey()) == key


def test_signatures_of_unknown_keys_are_ignored_but_one_known_is_needed() -> None:
    mine = Ed25519PrivateKey.generate()
    text = "hub.example/log\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
    note = Note(text, (sign(text, "hub.example/log", mine),))
    stranger = NoteKey.of("someone.example/else", ED25519, Ed25519PrivateKey.generate())
    with pytest.raises(NoteError, match="no signature of a known key"):
        verify(note, [stranger])
    known = NoteKey.of("hub.example/log", ED25519, mine)
    assert len(verify(note, [stranger, known])) == 1


@pytest.mark.parametrize(
    "bad",
    [
        "no blank line\n\u2014 a b\n",
        "text\n\n- hyphen AAAAAAAA\n",
        "text\n\n\u2014 name not-base64!\n",
        "te\x07xt\n\n\u2014 name AAAAAAAA\n",
        "text\n\n\u2014 na+me AAAAAAAA\n",
        "text\n\n",
    ],
)
def test_malformed_notes_say_what_is_wrong(bad: str) -> None:
    with pytest.raises(NoteError):
        parse_note(bad)


def test_a_checkpoint_has_the_specified_text_and_parses_back() -> None:
    tree = MerkleTree()
    tree.extend(leaf_hash(bytes([i])) for i in range(5))
    checkpoint = Checkpoint("consentry.example/log", 5, tree.root())
    text = checkpoint.text()
    assert text.split("\n") == [
        "consentry.example/log",
        "5",
        base64.b64encode(tree.root()).decode(),
        "",
    ]
    assert parse_checkpoint(text) == checkpoint
    for bad in ("o\n05\n" + text.split("\n")[2] + "\n", "o\n5\nAAAA\n", "o\n5\n"):
        with pytest.raises(NoteError):
            parse_checkpoint(bad)


def test_a_cosignature_signs_the_specified_message_and_verifies() -> None:
    witness = Ed25519PrivateKey.generate()
    text = Checkpoint("example.com/behind-the-sofa", 20852163, bytes(range(32))).text()
    signature = cosign(text, "witness.example.com/w1", witness, 1679315147)
    assert signature.timestamp == 1679315147
    # c2sp.org/tlog-cosignature: "cosignature/v1", the time line, then the checkpoint's text.
    message = b"cosignature/v1\ntime 1679315147\n" + text.encode()
    witness.public_key().verify(signature.signature[8:], message)
    key = NoteKey.of("witness.example.com/w1", COSIGNATURE_V1, witness)
    name_and_type = b"witness.example.com/w1\n\x04" + key.public
    assert signature.key_id == hashlib.sha256(name_and_type).digest()[:4]
    note = Note(text, (signature,))
    assert verify(parse_note(note.render()), [key])[0][0] == key
    moved = Note(text.replace("20852163", "20852164"), (signature,))
    with pytest.raises(NoteError, match="does not verify"):
        verify(moved, [key])
