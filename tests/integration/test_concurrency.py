"""Two OS processes writing for the same customer at once, on each engine: no update lost,
the state matches the last record, and the log stays one valid tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from consentry.audit.verify import verify_export
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.services import consents, evidence
from consentry.services.hub import Hub
from tests.helpers import make_customer, make_purpose

ADMIN = Caller("t", "t", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
PER_PROCESS = 150


@pytest.mark.slow
def test_two_processes_write_at_once(client, hub: Hub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_purpose(client)
    cid = make_customer(client)
    url = hub.db.url.render_as_string(hide_password=False)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.writer",
                url,
                str(hub.settings.data_dir),
                cid,
                str(PER_PROCESS),
                str(n),
            ],
            cwd=Path(__file__).parents[2],
        )
        for n in (0, 1)
    ]
    for p in procs:
        assert p.wait(timeout=300) == 0
    records = []
    after = None
    while True:
        page = consents.history(hub, ADMIN, cid, after, 1000)
        records += page["records"]
        after = page["next"]
        if after is None:
            break
    assert len(records) == 2 * PER_PROCESS
    last_general = [r for r in records if r["channel"] is None][-1]
    last_email = [r for r in records if r["channel"] == "email"][-1]
    expected = max((last_general, last_email), key=lambda r: records.index(r))
    state = {
        (c["purpose"], c["channel"]): c for c in consents.list_consents(hub, ADMIN, cid)["consents"]
    }
    assert state[("newsletter", "email")]["record_id"] == expected["id"]
    assert state[("newsletter", "sms")]["record_id"] == last_general["id"]
    head = evidence.head(hub)
    assert head.size == 2 * PER_PROCESS
    lines = list(evidence.export_lines(hub, head.size))
    verdict = verify_export(lines, head.as_json(), hub.signer.jwks())
    assert verdict.ok, verdict.problems


def test_concurrent_writes_in_one_process_fail_alone(client, hub: Hub) -> None:  # type: ignore[no-untyped-def]
    """Writers that arrive together are committed together (group commit on SQLite): a bad
    one is refused without undoing its neighbours, and every good one is durable."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.helpers import change

    make_purpose(client)
    cids = [make_customer(client) for _ in range(8)]

    def write(i: int) -> int:
        version = 1 if i % 4 else 9  # every fourth saw a notice that does not exist
        return change(client, cids[i % 8], channel="email", version=version).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(write, range(64)))
    assert codes.count(201) == 48 and codes.count(409) == 16
    total = sum(len(consents.history(hub, ADMIN, cid, None, 1000)["records"]) for cid in cids)
    assert total == 48
    assert evidence.head(hub).size == 48
