"""`consentry catalogue load`, `consentry offers learn` and `consentry import events` as a user
runs them: problems named by line, all or nothing, re-runs that add nothing, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from consentry.services.hub import Hub
from consentry.settings import Settings

CATALOGUE = """\
categories:
  - {path: sport, name: Sport}
  - {path: sport/running, name: Running}
  - {path: sport/running/shoes, name: Running shoes}
  - {path: sport/running/socks, name: Running socks}
products:
  - {sku: RUN-1, name: Trail shoes, category: sport/running/shoes}
  - {sku: SOCK-1, name: Socks, category: sport/running/socks}
offers:
  - {id: socks, title: "Socks 3 for 2", category: sport/running/socks, channels: [email]}
  - {id: shoes, title: "Shoes", sku: RUN-1, channels: [email], everyone: true}
triggers:
  - id: browsed
    on: product_view
    count: {event: product_view, at_least: 3, within: 7d}
    then: [{notify: email}]
"""


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consentry.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_catalogue_files_load_whole_or_not_at_all(tmp_path: Path) -> None:
    env = {"CONSENTRY_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    good = tmp_path / "catalogue.yaml"
    good.write_text(CATALOGUE)
    loaded = _run(env, "catalogue", "load", str(good))
    assert loaded.returncode == 0, loaded.stderr
    assert "4 categories, 2 products; 2 offers created, 0 updated; 1 triggers" in loaded.stdout
    again = _run(env, "catalogue", "load", str(good))
    assert "0 offers created, 0 updated" in again.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        CATALOGUE.replace("category: sport/running/socks, channels", "category: garden, channels")
        .replace("at_least: 3", "at_least: 0")
        .replace("channels: [email], everyone", "channels: [fax], everyone")
    )
    refused = _run(env, "catalogue", "load", str(bad))
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "line 11: offers[1](shoes).channels.0" in refused.stderr
    assert "line 15: triggers[0](browsed).count.at_least" in refused.stderr
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(CATALOGUE.replace("sport/running/socks, channels", "garden, channels"))
    refused = _run(env, "catalogue", "load", str(unknown))
    assert refused.returncode == 2
    assert "line 10: offers[0](socks).category: unknown category 'garden'" in refused.stderr
    hub = Hub.open(Settings(data_dir=tmp_path / "data"))
    try:
        with hub.db.read() as conn:
            titles = conn.exec_driver_sql("SELECT count(*) FROM offers").scalar()
        assert titles == 2  # nothing of the refused files was written
    finally:
        hub.close()
    learnt = _run(env, "offers", "learn")
    assert learnt.returncode == 0 and "0 complement rules" in learnt.stdout


def test_importing_events_reports_bad_rows_and_adds_nothing_twice(tmp_path: Path) -> None:
    env = {"CONSENTRY_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    hub = Hub.open(Settings(data_dir=tmp_path / "data"))
    try:
        from consentry.schemas.customers import CustomerCreate
        from consentry.services import customers

        with hub.db.write() as conn:
            cid = customers.create(hub, conn, CustomerCreate())["id"]
    finally:
        hub.close()
    csv_file = tmp_path / "events.csv"
    csv_file.write_text(
        "customer,type,time,sku,category,quantity,price,store\n"
        f"{cid},purchase,2026-11-01T10:00:00Z,RUN-1,sport/running/shoes,1,89.99,store-01\n"
        f"{cid},teleport,2026-11-01T10:00:00Z,,,,,\n"
        f"{cid},purchase,yesterday,,,,,\n"
        f"cus_nobody,purchase,2026-11-01T10:00:00Z,,,,,\n"
        f"{cid},store_visit,2026-11-02T09:00:00Z,,,,,store-01\n"
    )
    first = _run(env, "import", "events", str(csv_file))
    assert first.returncode == 1 and "Traceback" not in first.stderr
    assert "imported 2, already imported 0, bad 3" in first.stdout
    assert "line 3:" in first.stderr and "line 4:" in first.stderr and "line 5:" in first.stderr
    again = _run(env, "import", "events", str(csv_file))
    assert "imported 0, already imported 2, bad 3" in again.stdout
    ndjson = tmp_path / "events.ndjson"
    rows = [
        {"id": "till-9", "customer": cid, "type": "app_open", "time": "2026-11-03T08:00:00Z"},
        "not an object",
    ]
    ndjson.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    result = _run(env, "import", "events", str(ndjson))
    assert "imported 1, already imported 0, bad 2" in result.stdout
    assert "line 2: not a JSON object" in result.stderr and "line 3: not valid JSON" in (
        result.stderr
    )
    assert _run(env, "import", "events", str(tmp_path / "missing.csv")).returncode != 0
