"""Offline verification of an evidence export against a signed tree head.

Reads the NDJSON export line by line (constant memory but the frontier), recomputes each leaf
hash from the leaf's own fields, checks that ``seq`` runs 0, 1, 2… and that record ids never
repeat, rebuilds the root and compares it with the head, whose Ed25519 signature it checks
with the JWKS. The first bad line is reported with its line number and what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from consentry.domain.evidence import leaf_bytes_of
from consentry.domain.heads import head_payload
from consentry.domain.merkle import CompactRange, leaf_hash
from consentry.signing import keys_from_jwks, verify_signature


@dataclass
class Verdict:
    ok: bool
    records: int
    root_hash: str
    problems: list[str] = field(default_factory=list)
    first_bad_line: int | None = None
    first_bad_record: str | None = None


def verify_export(lines: Iterable[bytes], head: dict[str, Any], jwks: dict[str, Any]) -> Verdict:
    problems: list[str] = []
    first_line: int | None = None
    first_record: str | None = None

    def bad(line_no: int, record: str | None, message: str) -> None:
        nonlocal first_line, first_record
        if first_line is None:
            first_line, first_record = line_no, record
        problems.append(f"line {line_no}: {message}")

    keys = keys_from_jwks(jwks)
    key = keys.get(str(head.get("key_id")))
    try:
        payload = head_payload(int(head["size"]), str(head["root_hash"]), str(head["timestamp"]))
    except (KeyError, TypeError, ValueError):
        return Verdict(False, 0, "", ["the head lacks size, root_hash or timestamp"])
    if key is None:
        problems.append(f"no key {head.get('key_id')!r} in the JWKS: the head cannot be trusted")
    elif not verify_signature(key, payload, str(head.get("signature", ""))):
        problems.append("the head's signature does not verify: the head was altered or forged")

    tree = CompactRange()
    seen_ids: set[str] = set()
    line_no = 0
    for raw in lines:
        line_no += 1
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
            record_id = str(line["id"])
            seq = line["seq"]
            claimed = line["leaf_hash"]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            bad(
                line_no,
                None,
                "not an evidence record (unreadable JSON or missing id/seq/leaf_hash)",
            )
            tree.append(leaf_hash(raw.rstrip(b"\n")))
            continue
        computed = leaf_hash(leaf_bytes_of(line))
        if seq != tree.size:
            what = (
                "a record is missing before it"
                if isinstance(seq, int) and seq > tree.size
                else "inserted or out of order"
            )
            bad(
                line_no,
                record_id,
                f"record {record_id} has seq {seq}, expected {tree.size}: {what}",
            )
        if record_id in seen_ids:
            bad(line_no, record_id, f"record {record_id} appears twice")
        seen_ids.add(record_id)
        if computed.hex() != claimed:
            bad(
                line_no,
                record_id,
                f"record {record_id} was altered: its fields hash to {computed.hex()}, "
                f"not to its leaf_hash {claimed}",
            )
        tree.append(computed)

    root = tree.root().hex()
    if tree.size != int(head["size"]):
        problems.append(f"the export holds {tree.size} records, the head covers {head['size']}")
    elif root != head["root_hash"]:
        problems.append(
            "the recomputed root differs from the signed head: records were altered, "
            "removed, reordered or inserted"
        )
    return Verdict(not problems, tree.size, root, problems, first_line, first_record)
