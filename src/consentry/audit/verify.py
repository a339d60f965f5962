"""Offline verification of an evidence export against a signed tree head.

Reads the NDJSON export line by line (constant memory but the frontier and the ids seen),
recomputes each leaf hash from the leaf's own fields, checks that ``seq`` runs 0, 1, 2… and
that record ids never repeat, rebuilds the root and compares it with the head, whose Ed25519
signature it checks with the JWKS. The first bad line is reported with its line number and what
is wrong with it.

A file is read in parts by several processes (the parsing and hashing of a million lines is
most of the time; the tree is then built from the hashes in order, in one).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson

from consentry.domain.merkle import CompactRange, leaf_hash

loads, dumps, SORTED = orjson.loads, orjson.dumps, orjson.OPT_SORT_KEYS
UNREADABLE = "not an evidence record (unreadable JSON or missing id/seq/leaf_hash)"
# Below this a file is read by one process: starting others costs more than it saves.
PARALLEL_FROM_BYTES = 32 * 1024 * 1024
WORKERS = min(os.cpu_count() or 1, 4)


@dataclass
class Verdict:
    ok: bool
    records: int
    root_hash: str
    problems: list[str] = field(default_factory=list)
    first_bad_line: int | None = None
    first_bad_record: str | None = None


@dataclass
class _Checked:
    """A run of lines, each checked on its own: per record its leaf hash, id (None if the line
    is unreadable), seq and line number (from 1 within the run); and what was wrong."""

    hashes: list[bytes] = field(default_factory=list)
    ids: list[str | None] = field(default_factory=list)
    seqs: list[object] = field(default_factory=list)
    line_nos: list[int] = field(default_factory=list)
    problems: list[tuple[int, str | None, str]] = field(default_factory=list)
    lines: int = 0


def _check_lines(lines: Iterable[bytes]) -> _Checked:
    checked = _Checked()
    hashes, ids, seqs, line_nos = checked.hashes, checked.ids, checked.seqs, checked.line_nos
    line_no = 0
    # The loop runs a million times for a million records: names bound locally, the leaf
    # rebuilt by removing the two added members rather than copying the rest.
    for raw in lines:
        line_no += 1
        try:
            line = loads(raw)
            record_id = str(line["id"])
            seq = line.pop("seq")
            claimed = line.pop("leaf_hash")
            computed = sha256(b"\x00" + dumps(line, option=SORTED)).digest()
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            if not raw.strip():
                continue
            checked.problems.append((line_no, None, UNREADABLE))
            hashes.append(leaf_hash(raw.rstrip(b"\n")))
            ids.append(None)
            seqs.append(None)
            line_nos.append(line_no)
            continue
        if computed.hex() != claimed:
            checked.problems.append(
                (
                    line_no,
                    record_id,
                    f"record {record_id} was altered: its fields hash to {computed.hex()}, "
                    f"not to its leaf_hash {claimed}",
                )
            )
        hashes.append(computed)
        ids.append(record_id)
        seqs.append(seq)
        line_nos.append(line_no)
    checked.lines = line_no
    return checked


def _read_part(path: Path, start: int, end: int) -> _Checked:
    """The lines that begin in [start, end) of the file."""

    def lines() -> Iterable[bytes]:
        at = start
        with path.open("rb") as handle:
            handle.seek(start)
            for line in handle:
                if at >= end:
                    return
                at += len(line)
                yield line

    return _check_lines(lines())


def _parts(path: Path, count: int) -> list[tuple[int, int]]:
    """``count`` byte ranges of the file, each starting at the beginning of a line."""
    size = path.stat().st_size
    starts = [0]
    with path.open("rb") as handle:
        for k in range(1, count):
            handle.seek(size * k // count)
            handle.readline()  # to the start of the next line
            starts.append(max(handle.tell(), starts[-1]))
    return list(zip(starts, [*starts[1:], size], strict=True))


def verify_export(lines: Iterable[bytes], head: dict[str, Any], jwks: dict[str, Any]) -> Verdict:
    return _judge([_check_lines(lines)], head, jwks)


def verify_export_file(
    path: Path, head: dict[str, Any], jwks: dict[str, Any], workers: int | None = None
) -> Verdict:
    """As verify_export, reading the file in parts on ``workers`` processes (default: one a
    core, up to four). Spawned, not forked: a process with threads (a server's) forks badly."""
    workers = workers or WORKERS
    if workers < 2 or path.stat().st_size < PARALLEL_FROM_BYTES:
        with path.open("rb") as handle:
            return verify_export(handle, head, jwks)
    parts = _parts(path, workers)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(len(parts) - 1, mp_context=context) as pool:
        others = [pool.submit(_read_part, path, start, end) for start, end in parts[1:]]

        def in_order() -> Iterator[_Checked]:
            yield _read_part(path, *parts[0])  # this process reads a part too, and judges it
            for future in others:  # while the others are still reading theirs
                yield future.result()

        return _judge(in_order(), head, jwks)


def _judge(parts: Iterable[_Checked], head: dict[str, Any], jwks: dict[str, Any]) -> Verdict:
    """The head's signature, the order and uniqueness of the records across the parts, the
    root: the verdict."""
    # Imported here, not above: the processes reading parts import this module and need
    # neither (a spawned process starts faster without PyJWT and its cryptography).
    from consentry.domain.heads import head_payload
    from consentry.signing import keys_from_jwks, verify_signature

    keys = keys_from_jwks(jwks)
    key = keys.get(str(head.get("key_id")))
    try:
        payload = head_payload(int(head["size"]), str(head["root_hash"]), str(head["timestamp"]))
    except (KeyError, TypeError, ValueError):
        return Verdict(False, 0, "", ["the head lacks size, root_hash or timestamp"])
    general = []
    if key is None:
        general.append(f"no key {head.get('key_id')!r} in the JWKS: the head cannot be trusted")
    elif not verify_signature(key, payload, str(head.get("signature", ""))):
        general.append("the head's signature does not verify: the head was altered or forged")

    found: list[tuple[int, str | None, str]] = []
    tree = CompactRange()
    seen_ids: set[str] = set()
    expected = 0  # the seq the next record must have
    lines_before = 0
    for part in parts:
        found.extend((lines_before + n, record, what) for n, record, what in part.problems)
        count = len(part.hashes)
        ids = [i for i in part.ids if i is not None]
        fresh = set(ids)
        in_order = part.seqs == list(range(expected, expected + count))
        if not (in_order and len(fresh) == len(ids) and seen_ids.isdisjoint(fresh)):
            found.extend(_order_problems(part, expected, lines_before, seen_ids))
        seen_ids |= fresh
        tree.extend(part.hashes)
        expected += count
        lines_before += part.lines

    found.sort(key=lambda problem: problem[0])  # stable: a line's own problems keep their order
    problems = general + [f"line {n}: {what}" for n, _, what in found]
    root = tree.root().hex()
    if tree.size != int(head["size"]):
        problems.append(f"the export holds {tree.size} records, the head covers {head['size']}")
    elif root != head["root_hash"]:
        problems.append(
            "the recomputed root differs from the signed head: records were altered, "
            "removed, reordered or inserted"
        )
    first_line, first_record = (found[0][0], found[0][1]) if found else (None, None)
    return Verdict(not problems, tree.size, root, problems, first_line, first_record)


def _order_problems(
    part: _Checked, expected: int, lines_before: int, earlier: set[str]
) -> list[tuple[int, str | None, str]]:
    """The records of a part out of order or repeated (the slow way, only for a part that has
    some); ``earlier``: the ids of the parts before."""
    found: list[tuple[int, str | None, str]] = []
    seen: set[str] = set()
    for offset, (record_id, seq, line_no) in enumerate(
        zip(part.ids, part.seqs, part.line_nos, strict=True)
    ):
        position = expected + offset
        if record_id is None:  # unreadable: already reported
            continue
        if seq != position:
            what = (
                "a record is missing before it"
                if isinstance(seq, int) and seq > position
                else "inserted or out of order"
            )
            found.append(
                (
                    lines_before + line_no,
                    record_id,
                    f"record {record_id} has seq {seq}, expected {position}: {what}",
                )
            )
        if record_id in seen or record_id in earlier:
            found.append((lines_before + line_no, record_id, f"record {record_id} appears twice"))
        seen.add(record_id)
    return found
