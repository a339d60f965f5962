"""The real server: `consentry serve` in its own process, spoken to over HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.servers import serving


@pytest.mark.slow
def test_serve_answers_over_http(tmp_path: Path, database_url: str) -> None:
    env = {
        "CONSENTRY_DATA_DIR": str(tmp_path / "data"),
        "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
        "CONSENTRY_DATABASE_URL": database_url,
    }
    with serving(env) as base:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            assert (
                http.post(
                    "/v1/purposes",
                    json={
                        "id": "newsletter",
                        "title": "News",
                        "description": "Offers by e-mail",
                        "legal_basis": "consent",
                        "channels": ["email"],
                    },
                ).status_code
                == 201
            )
            cid = http.post("/v1/customers", json={}).json()["id"]
            rec = http.post(
                f"/v1/customers/{cid}/consents",
                json={
                    "purpose": "newsletter",
                    "action": "grant",
                    "notice_version": 1,
                    "source": "web",
                    "actor": {"type": "customer"},
                },
            ).json()["record"]
            assert rec["seq"] is None
            time.sleep(1.1)  # the background sequencer integrates within a second
            proof = http.get(f"/v1/evidence/records/{rec['id']}/proof")
            assert proof.status_code == 200 and proof.json()["leaf_index"] == 0
            assert http.get(
                "/v1/check", params={"customer": cid, "purpose": "newsletter", "channel": "email"}
            ).json()["allowed"]
            assert (
                http.get("/v1/purposes", headers={"Authorization": "Bearer x"}).status_code == 401
            )
