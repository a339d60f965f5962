"""``consentry import events FILE``: CSV or NDJSON files of millions of events, taken in
batches through the same intake as ``POST /v1/events``. Every bad row is reported by its line,
good rows are kept, and running the same file again adds nothing: a row without an ``id`` is
identified by its content (customer, type, time, sku…), so the same purchase twice in one
second on the same till counts once."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from consentry.domain.canonical import canonical_json
from consentry.domain.events import MAX_EVENTS
from consentry.services import events
from consentry.services.hub import Hub
from consentry.services.importer import read_rows


@dataclass
class EventImportReport:
    accepted: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return len(self.errors)


def import_events(
    hub: Hub, path: Path, progress: Callable[[int], None] | None = None
) -> EventImportReport:
    report = EventImportReport()
    rows = read_rows(path)
    while chunk := list(islice(rows, MAX_EVENTS)):
        lines: list[int] = []
        batch = []
        for line, row in chunk:
            if isinstance(row, str):
                report.errors.append((line, row))
                continue
            if not row.get("id"):
                content = canonical_json({k: v for k, v in row.items() if v is not None})
                row = {**row, "id": "row:" + hashlib.sha256(content).hexdigest()}
            lines.append(line)
            batch.append(row)
        answer = events.ingest(hub, batch)
        report.accepted += answer["accepted"]
        report.duplicates += answer["duplicates"]
        report.errors += [(lines[e["index"]], e["reason"]) for e in answer["errors"]]
        if progress:
            progress(len(chunk))
    report.errors.sort()
    return report
