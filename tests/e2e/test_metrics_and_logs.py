"""Operations, on a real server: /metrics after known traffic holds the counts, and JSON logs
(CONSENTRY_LOG_FORMAT=json) parse, one object a line, each request's lines carrying its id —
and no personal datum."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_KEY
from tests.helpers import NEWSLETTER
from tests.integration.test_vault import ANN, ANN_IN_CLEAR
from tests.servers import serving

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one series in Prometheus's text format (0 if absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        series, _, value = line.rpartition(" ")
        found = dict(re.findall(r'(\w+)="([^"]*)"', series))
        if series.split("{")[0] == name and found == labels:
            return float(value)
    return 0.0


@pytest.mark.slow
def test_metrics_count_the_traffic_and_json_logs_carry_request_ids(
    tmp_path: Path, database_url: str
) -> None:
    env = {
        "CONSENTRY_DATA_DIR": str(tmp_path / "data"),
        "CONSENTRY_ADMIN_KEY": ADMIN_KEY,
        "CONSENTRY_DATABASE_URL": database_url,
        "CONSENTRY_LOG_FORMAT": "json",
    }
    log_file = tmp_path / "server.log"
    with log_file.open("wb") as log, serving(env, "--log-level", "info", output=log) as base:
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        with httpx.Client(base_url=base, headers=headers) as http:
            assert http.post("/v1/purposes", json=NEWSLETTER).status_code == 201
            scraper = http.post(
                "/v1/apps", json={"name": "prometheus", "scopes": ["metrics:read"], "purposes": []}
            ).json()["key"]
            till = http.post(
                "/v1/apps",
                json={"name": "till", "scopes": ["consents:read"], "purposes": ["newsletter"]},
            ).json()["key"]
            scrape = {"Authorization": f"Bearer {scraper}"}
            before = http.get("/metrics", headers=scrape).text
            cid = http.post("/v1/customers", json=ANN).json()["id"]
            for action in ("grant", "withdraw", "grant"):
                body = {
                    "purpose": "newsletter",
                    "channel": "email",
                    "action": action,
                    "notice_version": 1,
                    "source": "web",
                    "actor": {"type": "customer"},
                }
                assert http.post(f"/v1/customers/{cid}/consents", json=body).status_code == 201
            for _ in range(7):
                answer = http.get(
                    "/v1/check",
                    params={"customer": cid, "purpose": "newsletter", "channel": "email"},
                )
                assert answer.status_code == 200
            traced = http.get(f"/v1/customers/{cid}", headers={"X-Request-ID": "trace-4711"})
            assert traced.headers["x-request-id"] == "trace-4711"
            made = http.get("/v1/purposes").headers["x-request-id"]
            assert re.fullmatch(r"[0-9a-f]{24}", made)
            assert http.get("/no/such/page").status_code == 404
            # A method a client invents is no new series (each would cost memory for ever).
            assert http.request("PROPFIND", "/v1/check").status_code == 405
            time.sleep(0.5)  # the sequencer signs a head over the three records

            assert http.get("/metrics").status_code == 200  # admin may
            assert httpx.get(f"{base}/metrics").status_code == 401
            assert (
                http.get("/metrics", headers={"Authorization": f"Bearer {till}"}).status_code == 403
            )
            after = http.get("/metrics", headers=scrape)
            assert after.headers["content-type"].startswith("text/plain")
            text = after.text

    def grew(name: str, **labels: str) -> float:
        return _sample(text, name, **labels) - _sample(before, name, **labels)

    assert grew("consentry_http_requests_total", method="GET", route="/v1/check", status="200") == 7
    route = "/v1/customers/{customer_id}/consents"
    assert grew("consentry_http_requests_total", method="POST", route=route, status="201") == 3
    assert grew("consentry_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert (
        grew("consentry_http_requests_total", method="other", route="/v1/check", status="405") == 1
    )
    assert "PROPFIND" not in text
    assert grew("consentry_checks_total") == 7
    assert grew("consentry_consent_records_appended_total") == 3
    assert _sample(text, "consentry_evidence_log_size") == 3
    assert _sample(text, "consentry_evidence_pending_leaves") == 0
    count = "consentry_http_request_duration_seconds_count"
    assert grew(count, method="GET", route="/v1/check") == 7
    assert "cus_" not in text and ANN_IN_CLEAR[0].decode() not in text

    # Every series the Grafana dashboard draws is one the server exposes.
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    drawn = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"consentry_\w+", target["expr"])
    }
    exposed = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if line[:1] != "#"}
    for line in text.splitlines():  # a labelled series with no sample yet: declared only
        if line.startswith("# TYPE "):
            declared = line.split()[2]
            exposed |= {declared, declared + "_total"}
    assert drawn and drawn <= exposed, drawn - exposed

    lines = [json.loads(line) for line in log_file.read_text().splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    traced_lines = [line for line in lines if line.get("request_id") == "trace-4711"]
    assert traced_lines and any(cid in line["message"] for line in traced_lines)
    everything = log_file.read_bytes()
    for secret in (ADMIN_KEY.encode(), scraper.encode(), till.encode(), *ANN_IN_CLEAR):
        assert secret not in everything
