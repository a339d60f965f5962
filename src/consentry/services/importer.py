"""Importing historical consents from another system (CSV or NDJSON).

Each row names a customer (``customer_id``, or an ``email``/``phone``/``loyalty_card`` — a
customer is created when none holds it), a ``purpose``, an ``action``, when it was
``captured_at``, and optionally ``channel``, ``notice_version`` (default: the current one),
``location``, ``external_id``. Good rows are kept, bad rows are reported with their line number
and reason; a row already imported (same ``external_id``, or the same content) adds nothing,
so re-running a file is harmless. Rows are committed in batches; an interrupted import resumes
where it stopped when run again.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, select

from consentry.domain.canonical import canonical_json
from consentry.domain.consent import Action, ActorType, ConsentEntry, CustomerStatus, Source
from consentry.domain.errors import DomainError, InvalidInput
from consentry.domain.identifiers import IdentifierKind
from consentry.domain.ids import new_id
from consentry.domain.purposes import Purpose
from consentry.services import customers as customer_service
from consentry.services.consents import CLOCK_SKEW, Capture, append_record
from consentry.services.hub import Hub
from consentry.services.purposes import notice_hash_of
from consentry.store import consents as consent_store
from consentry.store import customers as customer_store
from consentry.store import purposes as purpose_store
from consentry.store.customers import CustomerRow
from consentry.store.tables import imported_rows

BATCH = 2_000


class ImportRow(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    customer_id: str | None = None
    email: str | None = None
    phone: str | None = None
    loyalty_card: str | None = None
    purpose: str
    channel: str | None = None
    action: Action
    notice_version: int | None = Field(default=None, ge=1)
    captured_at: AwareDatetime
    location: str | None = Field(default=None, max_length=200)
    external_id: str | None = Field(default=None, max_length=200)


@dataclass
class ImportReport:
    imported: int = 0
    already_imported: int = 0
    customers_created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return len(self.errors)


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row) pairs; a row that cannot be read at all is its error message."""
    if path.suffix.lower() in (".ndjson", ".jsonl", ".json"):
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    value = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    yield number, f"not valid JSON ({exc})"
                    continue
                yield number, value if isinstance(value, dict) else "not a JSON object"
        return
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            clean = {k: (v if v != "" else None) for k, v in row.items() if k is not None}
            if None in row:
                yield reader.line_num, "more fields than the header names"
                continue
            yield reader.line_num, clean


def _row_key(row: ImportRow) -> str:
    if row.external_id:
        return "x:" + hashlib.sha256(row.external_id.encode()).hexdigest()[:60]
    content = canonical_json(row.model_dump(mode="json", exclude_none=True))
    return "h:" + hashlib.sha256(content).hexdigest()[:60]


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "row"
    return f"{where}: {first['msg']}"


class _Batch:
    """Caches for one transaction: purposes, customers and their state."""

    def __init__(self, hub: Hub, conn: Connection) -> None:
        self.hub = hub
        self.conn = conn
        self.purposes: dict[str, Purpose | None] = {}
        self.customers: dict[str, CustomerRow] = {}
        self.state: dict[str, dict[tuple[str, str], ConsentEntry]] = {}
        self.created = 0

    def purpose(self, purpose_id: str) -> Purpose:
        if purpose_id not in self.purposes:
            self.purposes[purpose_id] = purpose_store.get(self.conn, purpose_id)
        found = self.purposes[purpose_id]
        if found is None:
            raise InvalidInput(f"unknown purpose {purpose_id!r}")
        return found

    def customer(self, row: ImportRow) -> CustomerRow:
        if row.customer_id:
            cid = row.customer_id
        else:
            raw = {k.value: getattr(row, k.value) for k in IdentifierKind}
            pairs = customer_service.normalised_identifiers(self.hub, raw)
            if not pairs:
                raise InvalidInput("name the customer: customer_id, email, phone or loyalty_card")
            holders = {customer_store.by_identifier(self.conn, k, v) for k, v in pairs}
            holders.discard(None)
            if len(holders) > 1:
                raise InvalidInput("the identifiers belong to different customers")
            if holders:
                cid = str(holders.pop())
            else:
                cid = new_id("cus")
                created = CustomerRow(
                    cid, None, None, CustomerStatus.ACTIVE.value, False, self.hub.now_micros(), None
                )
                customer_store.insert(self.conn, created, None)
                customer_store.add_identifiers(self.conn, cid, pairs)
                self.customers[cid] = created
                self.state[cid] = {}
                self.created += 1
        if cid not in self.customers:
            found = customer_store.get(self.conn, cid, for_update=True)
            if found is None:
                raise InvalidInput(f"no customer {cid!r}")
            self.customers[cid] = found
        customer = self.customers[cid]
        if customer.status == CustomerStatus.ERASED.value:
            raise InvalidInput(f"customer {cid!r} was erased")
        return customer

    def entries(self, customer_id: str) -> dict[tuple[str, str], ConsentEntry]:
        if customer_id not in self.state:
            self.state[customer_id] = consent_store.entries(self.conn, customer_id)
        return self.state[customer_id]


def import_consents(
    hub: Hub, path: Path, progress: Callable[[int], None] | None = None
) -> ImportReport:
    report = ImportReport()
    rows = read_rows(path)
    done = False
    while not done:
        chunk = []
        for item in rows:
            chunk.append(item)
            if len(chunk) >= BATCH:
                break
        else:
            done = True
        if chunk:
            _import_chunk(hub, chunk, report)
            if progress:
                progress(len(chunk))
    return report


def _import_chunk(
    hub: Hub, chunk: list[tuple[int, dict[str, Any] | str]], report: ImportReport
) -> None:
    with hub.db.write() as conn:
        batch = _Batch(hub, conn)
        keys_seen: set[str] = set()
        for number, raw in chunk:
            if isinstance(raw, str):
                report.errors.append((number, raw))
                continue
            try:
                row = ImportRow.model_validate(raw)
            except ValidationError as exc:
                report.errors.append((number, _explain(exc)))
                continue
            key = _row_key(row)
            if (
                key in keys_seen
                or conn.execute(
                    select(imported_rows.c.record_id).where(imported_rows.c.row_key == key)
                ).first()
            ):
                report.already_imported += 1
                continue
            try:
                with conn.begin_nested():
                    record_id = _import_row(hub, batch, row)
                    conn.execute(imported_rows.insert().values(row_key=key, record_id=record_id))
            except DomainError as exc:
                report.errors.append((number, exc.detail))
                # The savepoint undid the row; forget what the caches learnt from it.
                batch.customers.clear()
                batch.state.clear()
                continue
            keys_seen.add(key)
            report.imported += 1
        report.customers_created += batch.created


def _import_row(hub: Hub, batch: _Batch, row: ImportRow) -> str:
    purpose = batch.purpose(row.purpose)
    purpose.check_channel(row.channel)
    version = row.notice_version or purpose.version
    if row.captured_at > hub.now() + CLOCK_SKEW:
        raise InvalidInput("captured_at lies in the future")
    customer = batch.customer(row)
    record = append_record(
        hub,
        batch.conn,
        customer,
        purpose,
        channel=row.channel,
        action=row.action,
        notice_version=version,
        notice_hash=notice_hash_of(batch.conn, purpose, version),
        capture=Capture(
            Source.IMPORT, ActorType.APP, "import", row.location, row.captured_at, None
        ),
        current=batch.entries(customer.id),
    )
    return str(record["id"])
