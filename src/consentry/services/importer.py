"""Importing historical consents from another system (CSV or NDJSON).

Each row names a customer (``customer_id``, or an ``email``/``phone``/``loyalty_card`` — a
customer is created when none holds it), a ``purpose``, an ``action``, when it was
``captured_at``, and optionally ``channel``, ``notice_version`` (default: the current one),
``location``, ``external_id``, ``confirmed_at`` (a double opt-in confirmed in the other
system). Good rows are kept, bad rows are reported with their line number
and reason; a row already imported (same ``external_id``, or the same content) adds nothing,
so re-running a file is harmless. Rows are committed in batches; an interrupted import resumes
where it stopped when run again.
"""

from __future__ import annotations

import csv
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from sqlalchemy import Connection

from consentry.domain.canonical import canonical_json
from consentry.domain.changes import ChangeType
from consentry.domain.clock import rfc3339, to_micros
from consentry.domain.consent import (
    ALL_CHANNELS,
    Action,
    ActorType,
    ConsentEntry,
    CustomerStatus,
    Source,
)
from consentry.domain.errors import DomainError, InvalidInput
from consentry.domain.evidence import EvidenceRecord
from consentry.domain.ids import new_id
from consentry.domain.purposes import Purpose
from consentry.services import customers as customer_service
from consentry.services.consents import (
    OPENINGS,
    Capture,
    change_body,
    check_captured_at,
    new_record,
    stored,
)
from consentry.services.hub import Hub
from consentry.services.purposes import notice_hash_of
from consentry.store import consents as consent_store
from consentry.store import customers as customer_store
from consentry.store import outbox
from consentry.store import purposes as purpose_store
from consentry.store.customers import CustomerRow

# Rows a transaction: large enough that commits and look-ups are amortised, small enough to
# keep a progress bar moving and a crash's loss (nothing of the chunk is kept) small.
BATCH = 10_000
IMPORT_LOCK = 0x696D706F  # "impo"


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
    # When the other system's double opt-in was confirmed: kept as the grant's provenance
    # (an imported grant takes effect; Consentry sends no confirmation for it).
    confirmed_at: AwareDatetime | None = None

    @field_validator("action")
    @classmethod
    def _given_or_refused(cls, action: Action) -> Action:
        if action is Action.REQUEST:
            raise ValueError(
                "import grants (with confirmed_at where the other system had them confirmed)"
            )
        return action

    @field_validator("confirmed_at")
    @classmethod
    def _of_a_grant(cls, confirmed_at: datetime | None, info: ValidationInfo) -> datetime | None:
        if confirmed_at is not None and info.data.get("action") is not Action.GRANT:
            raise ValueError("only a grant has a confirmation")
        return confirmed_at


@dataclass
class ImportReport:
    imported: int = 0
    already_imported: int = 0
    customers_created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def bad(self) -> int:
        return len(self.errors)

    def add(self, other: ImportReport) -> None:
        self.imported += other.imported
        self.already_imported += other.already_imported
        self.customers_created += other.customers_created
        self.errors += other.errors


def is_ndjson(path: Path) -> bool:
    return path.suffix.lower() in (".ndjson", ".jsonl", ".json")


@contextmanager
def csv_records(
    path: Path,
) -> Iterator[tuple[list[str] | None, Iterator[tuple[int, list[str]]]]]:
    """A CSV's header (None for an empty file) and its records as (line number, values), read
    with csv.reader rather than DictReader: a record is made a dict only where it is needed.
    A blank line is no record, as DictReader has it."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        # line_num is read after the values: the line a record that spans lines ends on.
        yield header, ((reader.line_num, values) for values in reader if values)


def read_rows(
    path: Path, wanted: Callable[[int], bool] | None = None
) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """(line number, row) pairs; a row that cannot be read at all is its error message. With
    ``wanted``, only the rows whose position (0 for the first row) it accepts are read."""
    if is_ndjson(path):
        with path.open("rb") as handle:
            position = -1
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                position += 1
                if wanted and not wanted(position):
                    continue
                try:
                    value = orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    yield number, f"not valid JSON ({exc})"
                    continue
                yield number, value if isinstance(value, dict) else "not a JSON object"
        return
    with csv_records(path) as (header, records):
        if header is None:
            return
        width = len(header)
        for position, (number, values) in enumerate(records):
            if wanted and not wanted(position):
                continue
            if len(values) > width:
                yield number, "more fields than the header names"
                continue
            values += [""] * (width - len(values))  # a short row's missing fields are empty
            yield (
                number,
                {
                    name: value if value != "" else None
                    for name, value in zip(header, values, strict=True)
                },
            )


def _row_key(hub: Hub, row: ImportRow) -> str:
    """A keyed hash (blind index) of the row: it may hold personal data, so no plain hash."""
    if row.external_id:
        return "x:" + hub.vault.blind("import-external-id", row.external_id)[:60]
    content = canonical_json(row.model_dump(mode="json", exclude_none=True))
    return "h:" + hub.vault.blind("import-row", content.decode())[:60]


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "row"
    return f"{where}: {first['msg']}"


def import_consents(
    hub: Hub, path: Path, progress: Callable[[int], None] | None = None
) -> ImportReport:
    return import_rows(hub, read_rows(path), progress)


def import_rows(
    hub: Hub,
    rows: Iterator[tuple[int, dict[str, Any] | str]],
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import (line number, row) pairs as ``read_rows`` gives them, a transaction a chunk."""
    report = ImportReport()
    with fewer_collections():
        while chunk := list(islice(rows, BATCH)):
            _import_chunk(hub, chunk, report)
            size = len(chunk)
            del chunk
            # Between chunks almost nothing is alive, so a full collection is quick; it
            # frees the few cycles a chunk leaves (in SQLAlchemy's and the driver's objects),
            # which would otherwise add some 25 MB a 100,000 rows.
            gc.collect()
            if progress:
                progress(size)
    return report


@contextmanager
def fewer_collections() -> Iterator[None]:
    """No automatic collections: a chunk makes some 40 objects a row, nearly all freed with
    the chunk by reference counting, yet the collector, run every 700 new objects by default,
    took a fifth of an import's time (29.4 s against 23.0 s for 200,000 rows), and still 4 %
    every 50,000. Objects that live the whole import are frozen out of the collections."""
    enabled = gc.isenabled()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.unfreeze()


@dataclass
class _Row:
    number: int
    row: ImportRow
    key: str
    purpose: Purpose | None = None
    notice_hash: str = ""  # of the notice version the row names (or the current one)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    blinds: list[tuple[str, str]] = field(default_factory=list)
    customer_id: str | None = None


@dataclass
class _Plan:
    """A chunk made ready to write: what its reads found, the rows, records and seals."""

    report: ImportReport  # the chunk's own counts and errors, added to the run's once written
    rows: list[_Row]
    new_customers: list[CustomerRow]
    new_identifiers: list[tuple[str, str, str, bytes]]  # (kind, blind index, customer, sealed)
    written: list[tuple[_Row, EvidenceRecord, bytes | None, int]]  # sealed openings, since
    customers: set[str]  # every customer the chunk writes for
    current: dict[str, dict[tuple[str, str], ConsentEntry]]  # their state, as the plan read it
    outcome: _Outcome  # decided against that state
    stamp: int


def _import_chunk(
    hub: Hub, chunk: list[tuple[int, dict[str, Any] | str]], report: ImportReport
) -> None:
    """One write transaction a chunk: every check first, then a few bulk statements.

    Why planned in a read transaction first: most of a chunk's time is per-row Python (checks,
    identifiers, leaves, seals), and on SQLite a write transaction holds the one write lock,
    so importing workers (``--workers``) would take turns for all of it. Under the lock the
    plan's reads are checked again — rows still not imported, new identifiers still unheld,
    the customers still active — and the chunk is planned again there if any changed. On
    PostgreSQL importers take turns for the write (an advisory lock), as SQLite's lock makes
    them, so the check sees what the other importer committed."""
    with hub.db.read() as conn:
        plan = _plan(hub, conn, chunk)
    try:
        with hub.db.write() as conn:
            hub.db.advisory_lock(conn, IMPORT_LOCK)
            if not _still_holds(conn, plan):
                plan = _plan(hub, conn, chunk)
            _write(hub, conn, plan)
    except hub.db.integrity_errors:
        # Another writer (the API, not an importer: they take turns) took one of the plan's
        # new identifiers between the check and the write. Plan again, under the lock.
        with hub.db.write() as conn:
            hub.db.advisory_lock(conn, IMPORT_LOCK)
            plan = _plan(hub, conn, chunk)
            _write(hub, conn, plan)
    # The chunk's pages go from the WAL into the database file here, after the write lock is
    # released (another worker writes meanwhile), not in the next commit that finds the WAL
    # long, under the lock: 1.6 of the 3.4 seconds that 20 commits took.
    hub.db.checkpoint()
    report.add(plan.report)


def _plan(hub: Hub, conn: Connection, chunk: list[tuple[int, dict[str, Any] | str]]) -> _Plan:
    report = ImportReport()
    rows = _validated(hub, conn, chunk, report)
    new_customers, new_pairs = _resolve_customers(hub, conn, rows, report)
    rows = [r for r in rows if r.customer_id is not None]
    vault = hub.vault
    # Keys first (committed to the key store), then the sealed data they open. A plan that is
    # redone leaves its keys unused; retention deletes keys no customer holds.
    vault.new_keys([c.id for c in new_customers], hub.now_micros())
    keys = vault.keys(sorted({r.customer_id for r in rows if r.customer_id}))
    identifiers = [
        (kind, blind, cid, vault.seal_with(keys[cid], cid, kind, value))
        for kind, value, blind, cid in new_pairs
    ]
    now = hub.now()
    written = []
    for r in rows:
        assert r.purpose is not None and r.customer_id is not None
        version = r.row.notice_version or r.purpose.version
        proof = (
            {"method": "double-opt-in", "confirmed_at": rfc3339(r.row.confirmed_at)}
            if r.row.confirmed_at is not None
            else None
        )
        capture = Capture(
            Source.IMPORT, ActorType.APP, "import", r.row.location, r.row.captured_at, proof
        )
        record, openings, captured = new_record(
            r.customer_id,
            r.purpose.id,
            r.row.channel,
            r.row.action,
            version,
            r.notice_hash,
            capture,
            now,
            hub.settings.earliest_captured_at,
        )
        record.leaf_hash  # noqa: B018 -- computed here, in parallel, not under the write lock
        kept = stored(openings)
        sealed = (
            vault.seal_json(r.customer_id, OPENINGS, kept, keys[r.customer_id]) if kept else None
        )
        written.append((r, record, sealed, to_micros(captured)))
    customers = {r.customer_id for r in rows if r.customer_id}
    current = consent_store.entries_of_customers(conn, customers, lock=False)
    stamp = hub.now_micros()
    outcome = _decide(written, current, stamp)
    return _Plan(
        report, rows, new_customers, identifiers, written, customers, current, outcome, stamp
    )


def _still_holds(conn: Connection, plan: _Plan) -> bool:
    """Whether what the plan read is still so: no other writer imported its rows, took its new
    identifiers, or erased a customer it writes for."""
    if consent_store.imported_keys(conn, [r.key for r in plan.rows]):
        return False
    if customer_store.holders(conn, [(kind, blind) for kind, blind, _, _ in plan.new_identifiers]):
        return False
    created = {c.id for c in plan.new_customers}
    known = sorted({r.customer_id for r in plan.rows if r.customer_id} - created)
    states = customer_store.states(conn, known)
    return len(states) == len(known) and all(
        status == CustomerStatus.ACTIVE.value for status, _ in states.values()
    )


def _write(hub: Hub, conn: Connection, plan: _Plan) -> None:
    customer_store.insert_many(conn, plan.new_customers)
    customer_store.add_identifiers(conn, plan.new_identifiers)
    plan.report.customers_created += len(plan.new_customers)
    written = plan.written
    # Locks the customers on PostgreSQL; what the plan decided stands if their state is still
    # what the plan read (the common case), else it is decided again against this state.
    current = consent_store.entries_of_customers(conn, plan.customers, lock=True)
    outcome = plan.outcome if current == plan.current else _decide(written, current, plan.stamp)
    order = consent_store.insert_records(
        conn,
        [
            (
                rec.id,
                r.customer_id,
                rec.purpose,
                rec.purpose_version,
                rec.channel,
                rec.action.value,
                since,
                rec.leaf_bytes,
                rec.leaf_hash,
            )
            for r, rec, _, since in written
        ],
    )
    consent_store.put_entries(
        conn,
        [
            (c, p, s, e._replace(order=order[e.record_id]), existed)
            for (c, p, s), (e, existed) in outcome.entries.items()
        ],
    )
    outbox.append_many(conn, outcome.announced)
    consent_store.insert_openings_many(
        conn,
        [
            (rec.id, r.customer_id, sealed)
            for r, rec, sealed, _ in written
            if sealed and r.customer_id
        ],
    )
    consent_store.mark_imported(conn, [(r.key, rec.id) for r, rec, _, _ in written])
    plan.report.imported += len(written)


# The write order a record not yet written is given while deciding: after every record
# written before (their order is their key, far below this), in the chunk's order, as the
# database then numbers them. The state rows get the real numbers once the records are in.
_NOT_YET_WRITTEN = 1 << 62


@dataclass
class _Outcome:
    """What a chunk's records do to the consent state, and the changes announced."""

    entries: dict[tuple[str, str, str], tuple[ConsentEntry, bool]]  # scope: entry, row exists
    announced: list[dict[str, Any]]


def _decide(
    written: list[tuple[_Row, EvidenceRecord, bytes | None, int]],
    current: dict[str, dict[tuple[str, str], ConsentEntry]],
    stamp: int,
) -> _Outcome:
    """Which records go in force against the ``current`` state, in the chunk's order."""
    entries_now = {customer: dict(entries) for customer, entries in current.items()}
    changed: dict[tuple[str, str, str], tuple[ConsentEntry, bool]] = {}
    announced = []
    for position, (r, rec, _, since) in enumerate(written):
        assert r.customer_id is not None
        scope = rec.channel or ALL_CHANNELS
        entries = entries_now.setdefault(r.customer_id, {})
        entry = ConsentEntry(
            rec.action, rec.purpose_version, rec.id, since, _NOT_YET_WRITTEN + position
        )
        previous = entries.get((rec.purpose, scope))
        in_force = entry.supersedes(previous)
        announced.append(
            {
                "type": ChangeType.CONSENT_CHANGED.value,
                "subject": r.customer_id,
                "purpose": rec.purpose,
                "body": change_body(
                    rec.id,
                    rec.purpose,
                    rec.channel,
                    rec.action,
                    rec.purpose_version,
                    since,
                    in_force,
                    rec.source,
                ),
                "created_at": stamp,
            }
        )
        if in_force:
            entries[(rec.purpose, scope)] = entry
            key = (r.customer_id, rec.purpose, scope)
            existed = changed[key][1] if key in changed else previous is not None
            changed[key] = (entry, existed)
    return _Outcome(changed, announced)


def _validated(
    hub: Hub, conn: Connection, chunk: list[tuple[int, dict[str, Any] | str]], report: ImportReport
) -> list[_Row]:
    rows: list[_Row] = []
    keys: set[str] = set()
    for number, raw in chunk:
        if isinstance(raw, str):
            report.errors.append((number, raw))
            continue
        try:
            row = ImportRow.model_validate(raw)
        except ValidationError as exc:
            report.errors.append((number, _explain(exc)))
            continue
        key = _row_key(hub, row)
        if key in keys:
            report.already_imported += 1
            continue
        keys.add(key)
        rows.append(_Row(number, row, key))
    seen = consent_store.imported_keys(conn, [r.key for r in rows])
    report.already_imported += sum(1 for r in rows if r.key in seen)
    rows = [r for r in rows if r.key not in seen]
    purposes: dict[str, Purpose | None] = {}
    # Older notice versions are looked up in the database: once a chunk, not once a row.
    notices: dict[tuple[str, int], str] = {}
    good = []
    for r in rows:
        try:
            if r.row.purpose not in purposes:
                purposes[r.row.purpose] = purpose_store.get(conn, r.row.purpose)
            purpose = purposes[r.row.purpose]
            if purpose is None:
                raise InvalidInput(f"unknown purpose {r.row.purpose!r}")
            purpose.check_channel(r.row.channel)
            version = r.row.notice_version or purpose.version
            if (purpose.id, version) not in notices:
                notices[(purpose.id, version)] = notice_hash_of(conn, purpose, version)
            r.notice_hash = notices[(purpose.id, version)]
            check_captured_at(r.row.captured_at, hub.now(), hub.settings.earliest_captured_at)
            row = r.row
            raw_ids = {"email": row.email, "phone": row.phone, "loyalty_card": row.loyalty_card}
            r.pairs = customer_service.normalised_identifiers(hub, raw_ids)
            if not r.row.customer_id and not r.pairs:
                raise InvalidInput("name the customer: customer_id, email, phone or loyalty_card")
        except DomainError as exc:
            report.errors.append((r.number, exc.detail))
            continue
        r.purpose = purpose
        good.append(r)
    return good


def _resolve_customers(
    hub: Hub, conn: Connection, rows: list[_Row], report: ImportReport
) -> tuple[list[CustomerRow], list[tuple[str, str, str, str]]]:
    """Find each row's customer by id or identifiers, and plan the customers no identifier
    names yet: the new customers, and the new (kind, value, blind index, customer) pairs."""
    by_id = customer_store.states(conn, [r.row.customer_id for r in rows if r.row.customer_id])
    blind = hub.vault.blind
    for r in rows:
        r.blinds = [(kind, blind(kind, value)) for kind, value in r.pairs]
    holders = customer_store.holders(conn, [b for r in rows for b in r.blinds])
    new_customers: list[CustomerRow] = []
    new_pairs: list[tuple[str, str, str, str]] = []
    for r in rows:
        try:
            if r.row.customer_id:
                state = by_id.get(r.row.customer_id)
                if state is None:
                    raise InvalidInput(f"no customer {r.row.customer_id!r}")
                if state[0] == CustomerStatus.ERASED.value:
                    raise InvalidInput(f"customer {r.row.customer_id!r} was erased")
                r.customer_id = r.row.customer_id
                continue
            found = {holders[b] for b in r.blinds if b in holders}
            if len(found) > 1:
                raise InvalidInput("the identifiers belong to different customers")
            if found:
                r.customer_id = found.pop()
                for pair, b in zip(r.pairs, r.blinds, strict=True):
                    if b not in holders:
                        holders[b] = r.customer_id
                        new_pairs.append((*pair, b[1], r.customer_id))
                continue
            customer = CustomerRow(
                new_id("cus"),
                None,
                None,
                CustomerStatus.ACTIVE.value,
                False,
                hub.now_micros(),
                None,
            )
            new_customers.append(customer)
            r.customer_id = customer.id
            for pair, b in zip(r.pairs, r.blinds, strict=True):
                holders[b] = customer.id
                new_pairs.append((*pair, b[1], customer.id))
        except DomainError as exc:
            report.errors.append((r.number, exc.detail))
    return new_customers, new_pairs
