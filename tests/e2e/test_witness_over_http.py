"""The witnesses' acceptance, all real processes over HTTP: a hub (`consentry serve`), two
witnesses (`consentry witness run`), an app reading the change feed (`consentry.client`), and a
customer's receipt checked offline (`consentry receipt verify`), a monitor keeping a copy
(`consentry evidence monitor`). The log grows and both witnesses cosign; then the operator
rewrites a record in the database and re-signs the tree with the log's own key: both witnesses
refuse and say why, the monitor names the record and what changed, the app raises on its next
page, the old receipt still verifies against the checkpoint it carries and not against the
forged one."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from consentry.client import Consentry, ForkDetected
from consentry.client.witness import create_key, verifier_key
from consentry.domain.notes import NoteKey, parse_checkpoint, parse_note, verify
from consentry.domain.tlog_proof import TlogProof, parse_tlog_proof
from consentry.settings import Settings
from tests import standalone_verifier
from tests.conftest import ADMIN_KEY
from tests.forgery import rewrite_record
from tests.helpers import NEWSLETTER
from tests.servers import free_port, serving

WITNESSES = ("auditor.example/w1", "partner.example/w2")


def _witness(
    base: str, tmp_path: Path, name: str, log_key: str
) -> subprocess.CompletedProcess[str]:
    slug = name.split("/")[-1]
    command = [sys.executable, "-m", "consentry.cli", "witness", "run", base]
    command += ["--state", str(tmp_path / slug), "--key", str(tmp_path / f"{slug}.pem")]
    command += ["--name", name, "--log-key", log_key]
    env = {"CONSENTRY_API_KEY": ADMIN_KEY, "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def _both(base: str, tmp_path: Path, log_key: str) -> list[subprocess.CompletedProcess[str]]:
    return [_witness(base, tmp_path, name, log_key) for name in WITNESSES]


def _changes(http: httpx.Client, customer: str, actions: str) -> list[str]:
    made = []
    for action in actions.split():
        body = {
            "purpose": "newsletter",
            "action": action,
            "notice_version": 1,
            "source": "web",
            "actor": {"type": "customer"},
        }
        answer = http.post(f"/v1/customers/{customer}/consents", json=body)
        assert answer.status_code == 201, answer.text
        made.append(answer.json()["record"]["id"])
    return made


def _monitor(base: str, tmp_path: Path, log_key: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "consentry.cli", "evidence", "monitor", base]
    command += ["--state", str(tmp_path / "monitor"), "--log-key", log_key]
    env = {"CONSENTRY_API_KEY": ADMIN_KEY, "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)


def _verify_receipt(
    tmp_path: Path, bundle: dict[str, str], *keys: str
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "receipt.json").write_text(json.dumps(bundle))
    command = [sys.executable, "-m", "consentry.cli", "receipt", "verify"]
    command += [str(tmp_path / "receipt.json"), "--key", str(tmp_path / "jwks.json")]
    for key in keys:
        command += ["--witness-key", key]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_witnesses_an_app_and_a_receipt_catch_a_rewritten_log(
    tmp_path: Path, database_url: str
) -> None:
    vkeys = [verifier_key(n, create_key(tmp_path / f"{n.split('/')[-1]}.pem")) for n in WITNESSES]
    data = tmp_path / "data"
    env = {
        "CONSENTRY_DATA_DIR": str(data),
        "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
        "CONSENTRY_DATABASE_URL": database_url,
        "CONSENTRY_WITNESSES": json.dumps(vkeys),
    }
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    port = free_port()  # the app's client talks to the same address after the restart
    with serving(env, port=port) as base, httpx.Client(base_url=base, headers=headers) as http:
        assert http.post("/v1/purposes", json=NEWSLETTER).status_code == 201
        customer = http.post("/v1/customers", json={}).json()["id"]
        _changes(http, customer, "grant withdraw")
        log_key = http.get("/v1/evidence/checkpoint-key").text.strip()
        (tmp_path / "jwks.json").write_text(http.get("/.well-known/jwks.json").text)

        # Normal growth: both witnesses cosign, twice.
        assert all(
            w.returncode == 0 and "at 2 records (first)" in w.stdout
            for w in _both(base, tmp_path, log_key)
        )
        withdrawal = _changes(http, customer, "grant withdraw grant")[1]  # leaf 3
        assert all(
            w.returncode == 0 and "at 5 records (after 2)" in w.stdout
            for w in _both(base, tmp_path, log_key)
        )
        served = parse_note(http.get("/v1/evidence/checkpoint").text)
        assert {k.name for k, _ in verify(served, [NoteKey.parse(v) for v in vkeys])} == set(
            WITNESSES
        )

        # A monitor keeps a copy of the log.
        copied = _monitor(base, tmp_path, log_key)
        assert copied.returncode == 0 and "5 records verified (5 new)" in copied.stdout, copied

        # The customer keeps a receipt of her withdrawal; an app reads the feed.
        receipt = http.get(f"/v1/receipts/{withdrawal}/bundle").json()
        assert parse_note(parse_tlog_proof(receipt["tlog_proof"]).checkpoint).signatures[1:]
        app = Consentry(base, key=ADMIN_KEY, log_key=log_key)
        deadline = time.monotonic() + 10
        while (
            app.changes().get("checkpoint") and app.witness.size != 5
        ) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert app.witness.size == 5

    # Behind the hub's back: her withdrawal becomes a grant, the tree is rebuilt and re-signed.
    settings = Settings(data_dir=data, database_url=database_url, admin_key=ADMIN_KEY)
    assert rewrite_record(settings, 3) == withdrawal

    with serving(env, port=port) as base, httpx.Client(base_url=base, headers=headers) as http:
        _changes(http, customer, "grant")
        time.sleep(0.3)
        for refused, name in zip(_both(base, tmp_path, log_key), WITNESSES, strict=True):
            assert refused.returncode == 1, refused.stdout
            assert "SPLIT VIEW" in refused.stderr
            assert "does not extend the tree of 5" in refused.stderr, refused.stderr
            assert (tmp_path / name.split("/")[-1] / "checkpoint").read_text().count("\n5\n") == 1
        forged = parse_note(http.get("/v1/evidence/checkpoint").text)
        assert len(forged.signatures) == 1  # nobody cosigned the lie

        # The monitor says what was rewritten.
        named = _monitor(base, tmp_path, log_key)
        assert named.returncode == 1 and "REWRITTEN" in named.stderr
        assert f"record 3 ({withdrawal}): action 'withdraw' -> 'grant'" in named.stderr

        with pytest.raises(ForkDetected, match="does not extend the tree of 5"):
            app.changes()
        app.close()

        # Her receipt still proves her withdrawal, with the checkpoint it carries...
        good = _verify_receipt(tmp_path, receipt, *vkeys)
        assert good.returncode == 0, good.stderr
        assert "withdraw newsletter" in good.stdout
        script = tmp_path / "verify_receipt.py"
        script.write_text(standalone_verifier.source())
        alone = subprocess.run(
            [
                sys.executable,
                "-I",
                str(script),
                str(tmp_path / "receipt.json"),
                str(tmp_path / "jwks.json"),
                *vkeys,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert alone.returncode == 0 and alone.stdout.startswith(f"OK {withdrawal} withdraw"), alone
        # ...and not against the forged log's checkpoint and proof.
        proof = http.get(f"/v1/evidence/records/{withdrawal}/proof").json()
        kept = parse_tlog_proof(receipt["tlog_proof"])
        swapped = TlogProof(
            index=proof["leaf_index"],
            path=tuple(bytes.fromhex(h) for h in proof["audit_path"]),
            checkpoint=forged.render(),
            extra=kept.extra,
        )
        assert parse_checkpoint(forged.text).size == proof["tree_size"]
        refused_receipt = _verify_receipt(tmp_path, {**receipt, "tlog_proof": swapped.render()})
        assert refused_receipt.returncode == 1
        assert "not in that tree" in refused_receipt.stderr
