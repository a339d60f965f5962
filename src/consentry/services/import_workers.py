"""Importing historical consents with several worker processes (``--workers N``).

Each worker is a process of its own (its own interpreter, so the per-row Python work —
validation, identifiers, leaves, seals — runs on every core) importing a share of the file
with the one-process importer. Why shares by customer, not by line: a worker resolves and
creates customers in its own transactions, so two workers given rows of one new customer
would both create them. A first pass therefore groups the rows that name the same customer —
by customer id, or by any identifier they share, transitively (union-find) — and each group
goes whole to one worker, where its rows keep their file order; rows of one external id go
together too (the second is "already imported"). Two workers may still write for one
existing customer named in different ways (an id in one row, an e-mail address in another):
importers write their chunks in turn (see ``importer._import_chunk``), each applying its
records by capture time against the state it reads under the lock, so the state is what one
worker would have made. Workers overlap the planning of their chunks, where most of the time
goes. Line numbers in the report are the file's; re-running the file adds nothing.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import wait as wait_for
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path
from typing import Any

from consentry.domain.errors import DomainError
from consentry.domain.identifiers import IdentifierKind, normalise_identifier
from consentry.services.hub import Hub
from consentry.services.importer import (
    ImportReport,
    csv_records,
    fewer_collections,
    import_rows,
    is_ndjson,
    read_rows,
)
from consentry.settings import Settings


class _Groups:
    """Union-find over the keys the rows name (ids, normalised identifiers, external ids).
    Twenty lines by hand: the libraries that have one (scipy's DisjointSet, networkx) would
    each bring a large dependency for it."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.parent: list[int] = []

    def tie(self, keys: list[str]) -> int:
        """Put ``keys`` in one group; its root (-1 for no keys). A root is the smallest node
        of its group: a new node joins under the row's root, two groups under the smaller."""
        index, parent = self.index, self.parent
        root = -1
        for key in keys:
            node = index.get(key)
            if node is None:  # most keys are new: no root to look for
                node = index[key] = len(parent)
                parent.append(node if root < 0 else root)
                if root < 0:
                    root = node
                continue
            found = self.root(node)
            if root < 0:
                root = found
            elif found != root:
                root, other = min(root, found), max(root, found)
                parent[other] = root
        return root

    def root(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node


def _keys(region: str, raw: dict[str, Any] | str) -> list[str]:
    """The keys that tie a row to others: its customer id, identifiers and external id; none
    if it names nothing the importer could use (the worker that gets it reports why)."""
    if isinstance(raw, str):
        return []
    keys = []
    for field, prefix in _TIES:
        # Rows of one external id go together too: the second is "already imported".
        value = raw.get(field)
        if isinstance(value, str) and value.strip():
            keys.append(prefix + value.strip())
    try:
        pairs = [
            f"{kind.value}:{normalise_identifier(kind, value, region)}"
            for kind in IdentifierKind
            if (value := raw.get(kind.value)) is not None
        ]
    except (DomainError, TypeError, ValueError, AttributeError):
        return keys
    return keys + pairs


_TIES = (("customer_id", "id:"), ("external_id", "x:"))


def row_keys(region: str, path: Path) -> Iterator[list[str]]:
    """``_keys`` of every row of the file, in ``read_rows`` order.

    A CSV's rows are read as lists and only the columns that tie rows are looked at: making
    each row a dict first (``read_rows``) took a third of the first pass, which runs before
    any worker can start importing."""
    if is_ndjson(path):
        yield from (_keys(region, raw) for _, raw in read_rows(path))
        return
    with csv_records(path) as (header, records):
        if header is None:
            return
        width = len(header)
        # As read_rows' dicts have it: of two columns of one name, the last counts.
        where = {name: i for i, name in enumerate(header)}
        ties = [(where[field], prefix) for field, prefix in _TIES if field in where]
        named = [
            (where[kind.value], f"{kind.value}:", _normaliser(kind, region))
            for kind in IdentifierKind
            if kind.value in where
        ]
        for _, values in records:
            present = len(values)
            if present > width:
                yield []  # read_rows reports it: it names no customer
                continue
            # A short row's missing fields are empty; an empty field is no value.
            keys = [
                prefix + value for i, prefix in ties if i < present and (value := values[i].strip())
            ]
            identified = []
            try:
                for i, prefix, normalise in named:
                    if i < present and (value := values[i]) != "":
                        identified.append(prefix + normalise(value))
            except DomainError:
                identified = []  # one bad identifier: none, as _keys has it
            yield keys + identified


def _normaliser(kind: IdentifierKind, region: str) -> Callable[[str], str]:
    return lambda value: normalise_identifier(kind, value, region)


def plan(hub: Hub, path: Path, workers: int) -> bytes:
    """Which worker takes each row of the file, in ``read_rows`` order (one byte a row)."""
    groups = _Groups()
    with fewer_collections():  # the groups' keys live to the end: no use collecting them
        # Each row's group root as it stood; rows that name nothing have -1.
        first = [groups.tie(keys) for keys in row_keys(hub.settings.default_region, path)]
    names = list(groups.index)
    shares = bytearray(len(first))
    worker_of: dict[int, int] = {}  # by group root: most groups have several rows
    for row, at in enumerate(first):
        if at < 0:  # rows that name no customer are spread by position
            shares[row] = zlib.crc32(str(row).encode()) % workers
            continue
        root = groups.root(at)
        share = worker_of.get(root)
        if share is None:
            share = worker_of[root] = zlib.crc32(names[root].encode()) % workers
        shares[row] = share
    return bytes(shares)


def _share(path: Path, shares: bytes, me: int) -> Iterator[tuple[int, dict[str, Any] | str]]:
    return read_rows(path, lambda row: shares[row] == me)


def _work(settings: Settings, path: Path, orders: Any, me: int, news: Any) -> None:
    try:
        hub = Hub.open(settings)  # while the first pass runs
        try:
            shares = orders.recv()
            if shares is None:  # the first pass failed: nothing to do
                return
            report = import_rows(hub, _share(path, shares, me), lambda n: news.send(("rows", n)))
        finally:
            hub.close()
        news.send(("done", report))
    except BaseException as exc:
        news.send(("failed", f"worker {me}: {type(exc).__name__}: {exc}"))
        raise


# Below this size (some 40,000 rows) starting worker processes costs about what they save.
PARALLEL_FROM_BYTES = 4 * 1024 * 1024
MAX_DEFAULT_WORKERS = 8


def default_workers(path: Path, cpus: int | None = None) -> int:
    """How many processes import ``path`` when the operator does not say: one per core (at
    most 8) for a file big enough to repay starting them, else one."""
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 1
    return max(1, min(cpus if cpus is not None else os.cpu_count() or 1, MAX_DEFAULT_WORKERS))


def _context() -> ForkServerContext | SpawnContext:
    """Workers forked from a fork server that imported the importer once: no connections or
    threads inherited, as with "spawn", but the modules are imported once, not once a worker
    (some 0.6 s of CPU each, while the first pass needs the cores)."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def import_in_parallel(
    hub: Hub, path: Path, workers: int, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import ``path`` with ``workers`` processes; the reports of all of them, as one.

    The workers start (a second or so of imports and opening the database) while this
    process makes the first pass, and this process integrates their records into the
    evidence log while they import, instead of all of it at the end."""
    context = _context()
    pipes = [context.Pipe(duplex=False) for _ in range(workers)]
    # Each worker's news on a pipe of its own, not one shared queue: a worker killed while
    # writing to a shared queue leaves its lock held, and every other worker's news (and its
    # very exit, which waits to flush the queue) waits for ever behind it.
    news = [context.Pipe(duplex=False) for _ in range(workers)]
    processes = [
        context.Process(
            target=_work, args=(hub.settings, path, pipes[me][0], me, news[me][1]), daemon=True
        )
        for me in range(workers)
    ]

    def start() -> None:
        for process in processes:
            process.start()

    with ThreadPoolExecutor(1) as starter:
        # The fork server's first start waits for its imports (half a second): the first
        # pass runs meanwhile.
        started = starter.submit(start)
        shares = None
        try:
            shares = plan(hub, path, workers)
        finally:
            failed = started.exception()
            for reader, _ in pipes:
                reader.close()  # the worker's end: a worker that died makes sending fail
            for _, writer in news:
                writer.close()  # the worker's end: this end reads EOF once the worker ends
            orders = shares if failed is None else None
            for _, sender in pipes:
                with contextlib.suppress(OSError):  # that worker's report says why it stopped
                    sender.send(orders)
            if orders is None:  # nothing to import: the workers stop before this raises
                for process in processes:
                    if process.pid is not None:
                        process.join()
    if failed is not None:
        raise failed
    total = ImportReport()
    failures: list[str] = []
    reported: set[int] = set()
    listening = {reader: me for me, (reader, _) in enumerate(news)}
    # Every worker is heard out, in any order: a worker whose report does not fit in its pipe
    # cannot end until it is read, so joining one before reading the others could wait for ever.
    for reader, kind, value in _heard(listening):
        me = listening[reader]
        if kind == "ended":
            if me not in reported:  # it ended without a report: killed, say
                reported.add(me)
                processes[me].join()
                code = processes[me].exitcode
                failures.append(f"worker {me} ended without a report (exit code {code})")
            continue
        if kind == "rows":
            if progress:
                progress(value)
            # A worker committed a chunk: sequence its records now, while the others work.
            # Without waiting: if another sequencer (a running server's) is at it, it will.
            hub.sequencer.integrate_all(wait=False)
            continue
        reported.add(me)
        if kind == "done":
            total.add(value)
        else:
            failures.append(value)
    for process in processes:
        process.join()
    if failures:
        # What the workers committed stays (a chunk is all or nothing); running the file
        # again imports the rest and adds nothing twice.
        raise ImportFailed("; ".join(failures))
    total.errors.sort()
    return total


def _heard(listening: dict[Any, int]) -> Iterator[tuple[Any, str, Any]]:
    """(pipe, kind, value) of each worker's news as it comes, then (pipe, "ended", None) when
    its worker has ended, until every worker has."""
    open_pipes = set(listening)
    while open_pipes:
        ready: list[Any] = wait_for(list(open_pipes))
        for reader in ready:
            try:
                kind, value = reader.recv()
            except (EOFError, OSError):
                open_pipes.discard(reader)
                reader.close()
                yield reader, "ended", None
                continue
            yield reader, kind, value


class ImportFailed(Exception):
    """A worker process failed; the message names it and why."""
