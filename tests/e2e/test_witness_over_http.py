"""`consentry witness run` against `consentry serve`, both real processes, over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from consentry.client.witness import STATE_FILE, create_key, verifier_key
from consentry.domain.notes import Checkpoint, Note, NoteKey, parse_checkpoint, parse_note, verify
from consentry.signing import Signer
from tests.conftest import ADMIN_KEY
from tests.helpers import NEWSLETTER
from tests.servers import serving

NAME = "auditor.example/w1"


def _witness(base: str, tmp_path: Path, log_key: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "consentry.cli", "witness", "run", base]
    command += ["--state", str(tmp_path / "state"), "--key", str(tmp_path / "w1.pem")]
    command += ["--name", NAME, "--log-key", log_key]
    env = {"CONSENTRY_API_KEY": ADMIN_KEY, "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def _grants(http: httpx.Client, customer: str, count: int) -> None:
    for n in range(count):
        body = {
            "purpose": "newsletter",
            "action": "grant" if n % 2 == 0 else "withdraw",
            "notice_version": 1,
            "source": "web",
            "actor": {"type": "customer"},
        }
        assert http.post(f"/v1/customers/{customer}/consents", json=body).status_code == 201


@pytest.mark.slow
def test_a_witness_process_cosigns_the_served_log_and_refuses_a_rewritten_one(
    tmp_path: Path, database_url: str
) -> None:
    witness = create_key(tmp_path / "w1.pem")
    data = tmp_path / "data"
    env = {
        "CONSENTRY_DATA_DIR": str(data),
        "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
        "CONSENTRY_DATABASE_URL": database_url,
        "CONSENTRY_WITNESSES": json.dumps([verifier_key(NAME, witness)]),
    }
    with serving(env) as base:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            assert http.post("/v1/purposes", json=NEWSLETTER).status_code == 201
            customer = http.post("/v1/customers", json={}).json()["id"]
            _grants(http, customer, 2)
            log_key = http.get("/v1/evidence/checkpoint-key").text.strip()

            first = _witness(base, tmp_path, log_key)
            assert first.returncode == 0, first.stderr
            assert "at 2 records (first)" in first.stdout
            _grants(http, customer, 3)
            second = _witness(base, tmp_path, log_key)
            assert second.returncode == 0, second.stderr
            assert "at 5 records (after 2)" in second.stdout
            served = parse_note(http.get("/v1/evidence/checkpoint").text)
            witness_key = NoteKey.parse(verifier_key(NAME, witness))
            assert verify(served, [witness_key])[0][0] == witness_key

            # An operator holding the log's key rewrites what the witness saw (another tree of
            # 4 records): the next round is a split view, nothing is cosigned.
            signer = Signer.load_or_create(data / "signing-key.pem")
            origin = parse_checkpoint(served.text).origin
            text = Checkpoint(origin, 4, bytes([9]) * 32).text()
            forged = Note(text, (signer.sign_note(text, origin),)).render()
            (tmp_path / "state" / STATE_FILE).write_text(forged)
            _grants(http, customer, 1)
            time.sleep(0.2)
            third = _witness(base, tmp_path, log_key)
            assert third.returncode == 1
            assert "SPLIT VIEW" in third.stderr and text in third.stderr
            assert (tmp_path / "state" / STATE_FILE).read_text() == forged
