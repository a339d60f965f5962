"""Receipts that stand alone: the bundle verifies offline — with our verifier, our CLI and the
docs' verifier that imports nothing of ours — and every tampering is refused by all three."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentry.audit.receipts import verify_bundle
from consentry.cli.main import app
from consentry.domain.notes import COSIGNATURE_V1, NoteKey, cosign, parse_note
from consentry.domain.tlog_proof import parse_tlog_proof
from consentry.settings import Settings
from tests import standalone_verifier
from tests.helpers import change, make_customer, make_purpose, witnessed_settings

NAME = "auditor.example/w1"
WITNESS = Ed25519PrivateKey.generate()
WITNESS_KEY = NoteKey.of(NAME, COSIGNATURE_V1, WITNESS)
OTHER_KEY = NoteKey.of("other.example/w2", COSIGNATURE_V1, Ed25519PrivateKey.generate())


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return witnessed_settings(tmp_path, database_url, WITNESS_KEY.vkey())


def _cosign_current(client: TestClient) -> int:
    served = client.get("/v1/evidence/checkpoint").text
    note = parse_note(served)
    cosigned = note.with_signatures([cosign(note.text, NAME, WITNESS, int(time.time()))])
    answer = client.post("/v1/evidence/cosignatures", content=cosigned.render().encode())
    assert answer.status_code == 200, answer.text
    return int(answer.json()["size"])


@pytest.fixture
def bundle(client: TestClient) -> dict[str, Any]:
    make_purpose(client)
    cid = make_customer(client)
    records = [
        change(client, cid, action=a).json()["record"]["id"] for a in ("grant", "withdraw", "grant")
    ]
    _cosign_current(client)
    change(client, cid, action="withdraw")  # the head moves past the cosigned checkpoint
    answer = client.get(f"/v1/receipts/{records[1]}/bundle")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _ours(bundle: dict[str, Any], jwks: dict[str, Any], witnesses: list[NoteKey]) -> bool:
    return verify_bundle(bundle, jwks, witnesses).ok


def _theirs(bundle: dict[str, Any], jwks: dict[str, Any], witnesses: list[NoteKey]) -> bool:
    verifier = standalone_verifier.load()
    try:
        verifier.verify(bundle, jwks, [w.vkey() for w in witnesses])
    except (Exception, SystemExit):  # the docs' verifier raises what it meets: all refuse
        return False
    return True


VERIFIERS = [_ours, _theirs]


def test_the_bundle_proves_the_receipt_against_the_cosigned_checkpoint(
    client: TestClient, bundle: dict[str, Any]
) -> None:
    jwks = client.get("/.well-known/jwks.json").json()
    proof = parse_tlog_proof(bundle["tlog_proof"])
    note = parse_note(proof.checkpoint)
    assert "\n3\n" in note.text and len(note.signatures) == 2  # cosigned, not the head of 4
    assert proof.index == 1 and json.loads(proof.extra or b"")["action"] == "withdraw"
    verdict = verify_bundle(bundle, jwks, [WITNESS_KEY])
    assert verdict.ok, verdict.problems
    assert (verdict.index, verdict.size, verdict.witnesses) == (1, 3, [NAME])
    assert verdict.claims["status"] == "ConsentWithdrawn"
    assert _theirs(bundle, jwks, [WITNESS_KEY])


def test_the_docs_verifier_imports_nothing_of_ours() -> None:
    assert standalone_verifier.imported_modules(standalone_verifier.source()) <= (
        standalone_verifier.ALLOWED_IMPORTS
    )


def _swap_line(proof: str, number: int, line: str) -> str:
    lines = proof.split("\n")
    lines[number] = line
    return "\n".join(lines)


def _flip(text: str) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[-1] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _retell_leaf(proof: str) -> str:
    """The leaf says 'grant' where the customer withdrew."""
    parsed = parse_tlog_proof(proof)
    leaf = (parsed.extra or b"").replace(b'"withdraw"', b'"grant"')
    return _swap_line(proof, 1, "extra " + base64.b64encode(leaf).decode())


def _forged_receipt(bundle: dict[str, Any]) -> str:
    header, payload, signature = bundle["receipt"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["action"] = "grant"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _checkpoint_line(proof: str, number: int, change_: Callable[[str], str]) -> str:
    head, _, note = proof.partition("\n\n")
    lines = note.split("\n")
    lines[number] = change_(lines[number])
    return head + "\n\n" + "\n".join(lines)


TAMPERING: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "receipt claims rewritten": lambda b: {**b, "receipt": _forged_receipt(b)},
    "receipt signature flipped": lambda b: {
        **b,
        "receipt": b["receipt"][:-2] + ("A" if b["receipt"][-2] != "A" else "B") + "A",
    },
    "leaf retold": lambda b: {**b, "tlog_proof": _retell_leaf(b["tlog_proof"])},
    "index + 1": lambda b: {**b, "tlog_proof": _swap_line(b["tlog_proof"], 2, "index 2")},
    "index - 1": lambda b: {**b, "tlog_proof": _swap_line(b["tlog_proof"], 2, "index 0")},
    "proof node flipped": lambda b: {
        **b,
        "tlog_proof": _swap_line(b["tlog_proof"], 3, _flip(b["tlog_proof"].split("\n")[3])),
    },
    "proof node removed": lambda b: {
        **b,
        "tlog_proof": b["tlog_proof"].replace(b["tlog_proof"].split("\n")[3] + "\n", "", 1),
    },
    "checkpoint size doubled": lambda b: {
        **b,
        "tlog_proof": _checkpoint_line(b["tlog_proof"], 1, lambda s: str(int(s) * 2)),
    },
    "checkpoint root replaced": lambda b: {
        **b,
        "tlog_proof": _checkpoint_line(
            b["tlog_proof"], 2, lambda _: base64.b64encode(bytes(32)).decode()
        ),
    },
    "cosignature removed": lambda b: {
        **b,
        "tlog_proof": b["tlog_proof"].rsplit("\n—", 1)[0] + "\n",
    },
}


@pytest.mark.parametrize("verifier", VERIFIERS, ids=["ours", "docs"])
@pytest.mark.parametrize("tampering", list(TAMPERING), ids=list(TAMPERING))
def test_every_tampering_is_refused(
    client: TestClient,
    bundle: dict[str, Any],
    verifier: Callable[[dict[str, Any], dict[str, Any], list[NoteKey]], bool],
    tampering: str,
) -> None:
    jwks = client.get("/.well-known/jwks.json").json()
    assert verifier(bundle, jwks, [WITNESS_KEY])
    assert not verifier(TAMPERING[tampering](bundle), jwks, [WITNESS_KEY])


@pytest.mark.parametrize("verifier", VERIFIERS, ids=["ours", "docs"])
def test_another_hub_or_an_absent_witness_is_refused(
    client: TestClient,
    bundle: dict[str, Any],
    verifier: Callable[[dict[str, Any], dict[str, Any], list[NoteKey]], bool],
) -> None:
    jwks = client.get("/.well-known/jwks.json").json()
    assert not verifier(bundle, jwks, [OTHER_KEY])
    stranger = Ed25519PrivateKey.generate()
    from consentry.signing import public_jwk

    other_jwk = {**public_jwk(stranger.public_key()), "kid": jwks["keys"][0]["kid"]}
    assert not verifier(bundle, {"keys": [other_jwk]}, [WITNESS_KEY])


def test_receipt_verify_on_the_command_line(
    client: TestClient, bundle: dict[str, Any], tmp_path: Path
) -> None:
    receipt, jwks = tmp_path / "receipt.json", tmp_path / "jwks.json"
    receipt.write_text(json.dumps(bundle))
    jwks.write_text(client.get("/.well-known/jwks.json").text)
    runner = CliRunner()
    base = ["receipt", "verify", str(receipt), "--key", str(jwks)]
    good = runner.invoke(app, [*base, "--witness-key", WITNESS_KEY.vkey()])
    assert good.exit_code == 0, good.output
    assert "OK" in good.output and "withdraw newsletter" in good.output and NAME in good.output
    absent = runner.invoke(app, [*base, "--witness-key", OTHER_KEY.vkey()])
    assert absent.exit_code == 1 and "other.example/w2" in absent.output
    receipt.write_text(json.dumps(TAMPERING["leaf retold"](bundle)))
    retold = runner.invoke(app, base)
    assert retold.exit_code == 1 and "leaf_hash" in retold.output
    bad_key = runner.invoke(app, [*base, "--witness-key", "nonsense"])
    assert bad_key.exit_code == 2 and "--witness-key" in bad_key.output
    missing = runner.invoke(
        app, ["receipt", "verify", str(tmp_path / "no.json"), "--key", str(jwks)]
    )
    assert missing.exit_code == 2 and "no receipt file" in missing.output


def test_a_pending_record_gets_a_bundle_against_the_current_head(client: TestClient) -> None:
    make_purpose(client)
    cid = make_customer(client)
    record = change(client, cid).json()["record"]["id"]
    answer = client.get(f"/v1/receipts/{record}/bundle")
    assert answer.status_code == 200, answer.text
    jwks = client.get("/.well-known/jwks.json").json()
    verdict = verify_bundle(answer.json(), jwks, [])
    assert verdict.ok and (verdict.index, verdict.size) == (0, 1), verdict.problems
    assert client.get("/v1/receipts/nope/bundle").status_code == 404
