"""A separate OS process that grants and withdraws for one customer as fast as it can
(run by test_concurrency.py)."""

from __future__ import annotations

import sys
from pathlib import Path

from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.schemas.consents import ConsentChange
from consentry.services import consents
from consentry.services.hub import Hub
from consentry.settings import Settings


def main(url: str, data_dir: str, customer: str, count: int, start: int) -> None:
    hub = Hub.open(Settings(database_url=url, data_dir=Path(data_dir)), migrate_schema=False)
    caller = Caller("w", "w", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
    for i in range(count):
        action = "grant" if (i + start) % 2 == 0 else "withdraw"
        with hub.db.write() as conn:
            consents.record_change(
                hub,
                conn,
                caller,
                customer,
                ConsentChange(
                    purpose="newsletter",
                    channel="email" if i % 3 else None,
                    action=action,
                    notice_version=1,
                    source="api",
                    actor={"type": "app", "id": f"w{start}"},
                ),
            )
        if i % 25 == 0:
            hub.sequencer.integrate()
    hub.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
