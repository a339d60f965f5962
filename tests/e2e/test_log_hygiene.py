"""No secret and no personal datum in the server's logs, over a full run of the API."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.integration.test_vault import ANN, ANN_IN_CLEAR
from tests.servers import serving


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_server_logs_no_identifier_and_no_key(
    tmp_path: Path, database_url: str, log_format: str
) -> None:
    env = {
        "CONSENTRY_DATA_DIR": str(tmp_path / "data"),
        "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
        "CONSENTRY_DATABASE_URL": database_url,
        "CONSENTRY_LOG_FORMAT": log_format,
    }
    log_file = tmp_path / "server.log"
    with log_file.open("wb") as log, serving(env, "--log-level", "debug", output=log) as base:
        secrets_seen = [ADMIN_KEY]
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            purpose = {
                "id": "newsletter",
                "title": "News",
                "description": "Offers by e-mail",
                "legal_basis": "consent",
                "channels": ["email"],
            }
            assert http.post("/v1/purposes", json=purpose).status_code == 201
            till = http.post(
                "/v1/apps",
                json={"name": "till", "scopes": ["consents:read"], "purposes": ["newsletter"]},
            ).json()
            secrets_seen.append(till["key"])
            cid = http.post("/v1/customers", json=ANN).json()["id"]
            # The same identifiers again, and malformed ones: problem documents, no logs.
            assert http.post("/v1/customers", json=ANN).status_code == 409
            bad = {"identifiers": {"email": "Ann Lee at home"}, "name": "Ann Lee"}
            assert http.post("/v1/customers", json=bad).status_code == 422
            for lookup in (
                {"email": ANN["identifiers"]["email"]},
                {"phone": ANN["identifiers"]["phone"]},
                {"loyalty_card": ANN["identifiers"]["loyalty_card"]},
                {"name": ANN["name"], "postcode": ANN["postcode"]},
            ):
                assert http.post("/v1/customers/lookup", json=lookup).json() == {"id": cid}
            assert http.get(f"/v1/customers/{cid}").status_code == 200
            grant = {
                "purpose": "newsletter",
                "action": "grant",
                "notice_version": 1,
                "source": "store",
                "actor": {"type": "staff", "id": "clerk Ann Lee"},
                "location": "SW1A 1AA",
                "proof": {"signed": "Ann Lee"},
            }
            assert http.post(f"/v1/customers/{cid}/consents", json=grant).status_code == 201
            till_headers = {"Authorization": f"Bearer {till['key']}"}
            params = {"customer": cid, "purpose": "newsletter", "channel": "email"}
            assert http.get("/v1/check", params=params, headers=till_headers).json()["allowed"]
            assert http.get(f"/v1/customers/{cid}/consents/history").status_code == 200
            assert http.post(f"/v1/customers/{cid}/restrict").status_code == 200
            assert http.get(f"/v1/customers/{cid}/export").status_code == 200
            page = http.get(f"/v1/customers/{cid}/export", headers={"Accept": "text/html"})
            assert "Ann Lee" in page.text
            # Her personal link: its secret must not be written in the access log either.
            token = http.post(f"/v1/customers/{cid}/preference-link").json()["url"].split("/p/")[1]
            secrets_seen.append(token)
            assert httpx.get(f"{base}/p/{token}", follow_redirects=False).status_code == 200
            assert httpx.post(f"{base}/p/{token}", follow_redirects=False).status_code == 403
            assert http.delete(f"/v1/customers/{cid}").status_code == 202
            assert http.post("/v1/customers/lookup", json={"email": "x@y.z"}).status_code == 404
    logged = log_file.read_bytes()
    if log_format == "json":  # one object a line, every line
        assert all(json.loads(line) for line in logged.splitlines() if line.strip())
    assert b"/v1/customers/lookup" in logged  # the log is real: it has a line per request
    assert "GET /p/…".encode() in logged  # and the link's request line, its secret redacted
    for clear in ANN_IN_CLEAR:
        assert clear not in logged, clear
    for secret in secrets_seen:
        assert secret.encode() not in logged
