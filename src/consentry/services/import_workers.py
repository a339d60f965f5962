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
import queue
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from consentry.domain.errors import DomainError
from consentry.services.customers import normalised_identifiers
from consentry.services.hub import Hub
from consentry.services.importer import (
    ImportReport,
    fewer_collections,
    import_rows,
    read_rows,
)
from consentry.settings import Settings

_IDENTIFIERS = ("email", "phone", "loyalty_card")


class _Groups:
    """Union-find over the keys the rows name (ids, normalised identifiers, external ids).
    Twenty lines by hand: the libraries that have one (scipy's DisjointSet, networkx) would
    each bring a large dependency for it."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.parent: list[int] = []

    def node(self, key: str) -> int:
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.parent)
            self.parent.append(found)
        return found

    def root(self, node: int) -> int:
        parent = self.parent
        while parent[node] != node:
            parent[node] = parent[parent[node]]  # path halving
            node = parent[node]
        return node

    def join(self, a: int, b: int) -> None:
        ra, rb = self.root(a), self.root(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _keys(hub: Hub, raw: dict[str, Any] | str) -> list[str]:
    """The keys that tie a row to others: its customer id, identifiers and external id; none
    if it names nothing the importer could use (the worker that gets it reports why)."""
    if isinstance(raw, str):
        return []
    keys = []
    for field, prefix in (("customer_id", "id:"), ("external_id", "x:")):
        # Rows of one external id go together too: the second is "already imported".
        value = raw.get(field)
        if isinstance(value, str) and value.strip():
            keys.append(prefix + value.strip())
    try:
        named = {name: raw.get(name) for name in _IDENTIFIERS}
        pairs = normalised_identifiers(hub, {k: v for k, v in named.items() if v is not None})
    except (DomainError, TypeError, ValueError, AttributeError):
        return keys
    return keys + [f"{kind}:{value}" for kind, value in pairs]


def plan(hub: Hub, path: Path, workers: int) -> bytes:
    """Which worker takes each row of the file, in ``read_rows`` order (one byte a row)."""
    groups = _Groups()
    first: list[int] = []  # each row's first key node, -1 for a row that names none
    with fewer_collections():  # the groups' keys live to the end: no use collecting them
        for _, raw in read_rows(path):
            nodes = [groups.node(key) for key in _keys(hub, raw)]
            for other in nodes[1:]:
                groups.join(nodes[0], other)
            first.append(nodes[0] if nodes else -1)
    names = list(groups.index)
    shares = bytearray(len(first))
    for row, node in enumerate(first):
        # Rows that name no customer are spread by position; the others by their group.
        key = names[groups.root(node)].encode() if node >= 0 else str(row).encode()
        shares[row] = zlib.crc32(key) % workers
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
            report = import_rows(hub, _share(path, shares, me), lambda n: news.put(("rows", n)))
        finally:
            hub.close()
        news.put(("done", report))
    except BaseException as exc:
        news.put(("failed", f"worker {me}: {type(exc).__name__}: {exc}"))
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


def import_in_parallel(
    hub: Hub, path: Path, workers: int, progress: Callable[[int], None] | None = None
) -> ImportReport:
    """Import ``path`` with ``workers`` processes; the reports of all of them, as one.

    The workers start (a second or so of imports and opening the database) while this
    process makes the first pass, and this process integrates their records into the
    evidence log while they import, instead of all of it at the end."""
    context = multiprocessing.get_context("spawn")  # no inherited connections or threads
    news = context.Queue()
    pipes = [context.Pipe(duplex=False) for _ in range(workers)]
    processes = [
        context.Process(
            target=_work, args=(hub.settings, path, pipes[me][0], me, news), daemon=True
        )
        for me in range(workers)
    ]
    for process in processes:
        process.start()
    for reader, _ in pipes:
        reader.close()  # the worker's end: a worker that died makes sending fail, not block
    shares = None
    try:
        shares = plan(hub, path, workers)
    finally:
        for _, orders in pipes:
            with contextlib.suppress(OSError):  # that worker's report says why it stopped
                orders.send(shares)
        if shares is None:  # the first pass failed: the workers stop before it is raised
            for process in processes:
                process.join()
    total = ImportReport()
    done, failures = 0, []
    while done < workers:
        try:
            kind, value = news.get(timeout=1)
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in processes) and news.empty():
                failures.append("a worker ended without a report")
                break
            continue
        if kind == "rows":
            if progress:
                progress(value)
            # A worker committed a chunk: sequence its records now, while the others work.
            # Without waiting: if another sequencer (a running server's) is at it, it will.
            hub.sequencer.integrate_all(wait=False)
        elif kind == "done":
            done += 1
            total.add(value)
        else:
            done += 1
            failures.append(value)
    for process in processes:
        process.join()
    if failures:
        # What the workers committed stays (a chunk is all or nothing); running the file
        # again imports the rest and adds nothing twice.
        raise ImportFailed("; ".join(failures))
    total.errors.sort()
    return total


class ImportFailed(Exception):
    """A worker process failed; the message names it and why."""
