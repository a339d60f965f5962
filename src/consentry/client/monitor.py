"""A monitor of a hub's evidence log: it keeps a full copy of the log as it grows (fetching only
the records it has not got), checks every new checkpoint against that copy, and when the hub's
history no longer matches it, says which records were changed and which two signed checkpoints
disagree. Where a witness keeps one checkpoint and can say only *that* the log was rewritten, a
monitor can say *what* was rewritten.

The state directory holds ``records.ndjson`` (the export lines, in order), ``tree.json`` (the
tree's right frontier and how many bytes of the records it covers) and ``checkpoint`` (the last
checkpoint verified). Records are appended and flushed before the tree and checkpoint move on;
bytes past what ``tree.json`` covers (a round that crashed) are cut off at the next start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from consentry.client.hub_http import get_ok
from consentry.domain.canonical import canonical_json
from consentry.domain.merkle import CompactRange, leaf_hash
from consentry.domain.notes import NoteError, NoteKey, open_checkpoint

RECORDS, TREE, CHECKPOINT = "records.ndjson", "tree.json", "checkpoint"
MAX_CHANGES = 20


class MonitorError(Exception):
    """The hub could not be asked, or answered something that is not its log."""


@dataclass
class Rewritten(Exception):
    """The hub's log no longer holds what this monitor copied: ``changes`` names the records
    (``seq``, id, what differs); ``seen`` and ``shown`` are the two signed checkpoints."""

    reason: str
    seen: str
    shown: str
    changes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class Round:
    size: int
    new: int  # records fetched this round


def _fsync_write(path: Path, data: bytes) -> None:
    fresh = path.with_name(path.name + ".new")
    with open(fresh, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(fresh, path)


class LogCopy:
    def __init__(self, state: Path) -> None:
        self.state = state
        state.mkdir(parents=True, exist_ok=True)
        tree_file = state / TREE
        if tree_file.exists():
            kept = json.loads(tree_file.read_text(encoding="utf-8"))
            self.tree = CompactRange(kept["size"], [bytes.fromhex(h) for h in kept["hashes"]])
            self.covered = int(kept["bytes"])
            self.checkpoint: str | None = (state / CHECKPOINT).read_text(encoding="utf-8")
        else:
            self.tree, self.covered, self.checkpoint = CompactRange(), 0, None
        records = state / RECORDS
        with open(records, "ab") as out:  # a crashed round's records are not the copy's
            out.truncate(self.covered)

    @property
    def size(self) -> int:
        return self.tree.size

    def lines(self, stop: int) -> Iterator[bytes]:
        with open(self.state / RECORDS, "rb") as kept:
            for n, line in enumerate(kept):
                if n >= stop:
                    return
                yield line

    def add(self, lines: list[bytes], tree: CompactRange, checkpoint: str) -> None:
        with open(self.state / RECORDS, "ab") as out:
            for line in lines:
                out.write(line)
            out.flush()
            os.fsync(out.fileno())
            covered = out.tell()
        kept = {"size": tree.size, "hashes": [h.hex() for h in tree.hashes], "bytes": covered}
        _fsync_write(self.state / TREE, json.dumps(kept).encode())
        _fsync_write(self.state / CHECKPOINT, checkpoint.encode())
        self.tree, self.covered, self.checkpoint = tree, covered, checkpoint


def _export(http: httpx.Client, start: int, end: int) -> list[bytes]:
    if start >= end:
        return []
    body = get_ok(http, "/v1/evidence/export", MonitorError, **{"from": start, "to": end}).content
    return body.splitlines(keepends=True)


def _leaf(line: bytes, seq: int) -> bytes:
    """The leaf hash of an export line that is record ``seq``; MonitorError if it is not."""
    try:
        record = orjson.loads(line)
        claimed, at = record.pop("leaf_hash"), record.pop("seq")
        digest = leaf_hash(canonical_json(record))
    except (orjson.JSONDecodeError, KeyError, AttributeError, TypeError):
        raise MonitorError(f"the hub served something that is not record {seq}") from None
    if at != seq or digest.hex() != claimed:
        raise MonitorError(f"the hub served record {seq} damaged (its seq or its leaf_hash)")
    return digest


def _differences(mine: bytes, theirs: bytes, seq: int) -> str:
    a, b = orjson.loads(mine), orjson.loads(theirs)
    changed = [
        f"{name} {a.get(name)!r} -> {b.get(name)!r}"
        for name in sorted(set(a) | set(b))
        if name not in ("leaf_hash",) and a.get(name) != b.get(name)
    ]
    return f"record {seq} ({a.get('id')}): " + ", ".join(changed)


def _changes(http: httpx.Client, copy: LogCopy, upto: int) -> list[str]:
    """The records of the copy's first ``upto`` the hub now tells otherwise."""
    theirs = _export(http, 0, upto)
    found = []
    for seq, (mine, served) in enumerate(zip(copy.lines(upto), theirs, strict=False)):
        if orjson.loads(mine)["leaf_hash"] != orjson.loads(served).get("leaf_hash"):
            found.append(_differences(mine, served, seq))
            if len(found) == MAX_CHANGES:
                break
    return found


def monitor_once(http: httpx.Client, state: Path, log_key: NoteKey) -> Round:
    """One round: fetch the checkpoint and the records new since the last, check that they
    extend the copy to exactly the checkpoint's tree, keep them. ``http``: a client with the
    hub's base URL and an API key with evidence:read."""
    copy = LogCopy(state)
    shown = get_ok(http, "/v1/evidence/checkpoint", MonitorError).text
    try:
        new = open_checkpoint(shown, log_key)[1]
    except NoteError as exc:
        raise MonitorError(f"the hub's checkpoint is not one of the log's: {exc}") from None
    seen = copy.checkpoint or ""
    if new.size < copy.size:
        raise Rewritten(
            f"the log shrank from {copy.size} to {new.size} records",
            seen,
            shown,
            _changes(http, copy, new.size),
        )
    lines = _export(http, copy.size, new.size)
    if len(lines) != new.size - copy.size:
        raise MonitorError(f"the hub served {len(lines)} records, not {new.size - copy.size}")
    tree = CompactRange(copy.tree.size, copy.tree.hashes)
    for line in lines:
        tree.append(_leaf(line, tree.size))
    if tree.root() != new.root:
        changes = _changes(http, copy, copy.size)
        reason = (
            f"the tree of {new.size} records does not extend the {copy.size} records copied"
            if changes
            else f"the records served do not make the tree of {new.size} records it signed"
        )
        raise Rewritten(reason, seen, shown, changes)
    copy.add(lines, tree, shown)
    return Round(new.size, len(lines))
