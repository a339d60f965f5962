"""The offline verifier finds every kind of tampering in an export, and names the first bad
record where the export itself betrays it."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from consentry.audit import verify
from consentry.cli.main import app
from consentry.domain.canonical import canonical_json
from consentry.domain.evidence import leaf_bytes_of
from consentry.domain.merkle import leaf_hash
from tests.helpers import change, make_customer, make_purpose

runner = CliRunner()


@pytest.fixture(autouse=True, params=[1, 3], ids=["whole", "in 3 parts"])
def parts(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """Every case read by one process, and in three parts by three (so that what is wrong
    lies on both sides of a boundary between parts)."""
    monkeypatch.setattr(verify, "PARALLEL_FROM_BYTES", 0)
    monkeypatch.setattr(verify, "WORKERS", request.param)
    return int(request.param)


@pytest.fixture
def exported(client: TestClient, tmp_path: Path) -> tuple[list[bytes], Path, Path]:
    make_purpose(client)
    for _ in range(3):
        cid = make_customer(client)
        for action in ("grant", "withdraw", "grant"):
            assert change(client, cid, action=action).status_code == 201
    head = client.get("/v1/evidence/head").json()
    lines = client.get("/v1/evidence/export").content.splitlines(keepends=True)
    head_file = tmp_path / "head.json"
    head_file.write_text(json.dumps(head))
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(client.get("/.well-known/jwks.json").text)
    return lines, head_file, jwks_file


def _verify(lines: list[bytes], head: Path, jwks: Path, tmp_path: Path) -> tuple[int, str]:
    export = tmp_path / "export.ndjson"
    export.write_bytes(b"".join(lines))
    result = runner.invoke(
        app, ["evidence", "verify", str(export), "--head", str(head), "--jwks", str(jwks)]
    )
    return result.exit_code, result.output


def _edit(line: bytes, **changes: object) -> dict[str, object]:
    record = orjson.loads(line)
    record.update(changes)
    return dict(record)


def test_an_untouched_export_verifies(
    exported: tuple[list[bytes], Path, Path], tmp_path: Path
) -> None:
    lines, head, jwks = exported
    code, output = _verify(lines, head, jwks, tmp_path)
    assert code == 0 and "OK 9 records" in output


def test_altered_record_is_named(exported: tuple[list[bytes], Path, Path], tmp_path: Path) -> None:
    lines, head, jwks = exported
    lines[4] = canonical_json(_edit(lines[4], action="grant")) + b"\n"
    code, output = _verify(lines, head, jwks, tmp_path)
    assert code == 1 and "FIRST BAD RECORD line 5" in output and "altered" in output


def test_altered_record_with_recomputed_hash_breaks_the_root(
    exported: tuple[list[bytes], Path, Path], tmp_path: Path
) -> None:
    lines, head, jwks = exported
    record = _edit(lines[1], action="grant")
    record["leaf_hash"] = leaf_hash(leaf_bytes_of(record)).hex()
    lines[1] = canonical_json(record) + b"\n"
    code, output = _verify(lines, head, jwks, tmp_path)
    assert code == 1 and "differs from the signed head" in output


def test_removed_record_is_found(exported: tuple[list[bytes], Path, Path], tmp_path: Path) -> None:
    lines, head, jwks = exported
    del lines[3]
    code, output = _verify(lines, head, jwks, tmp_path)
    assert code == 1 and "FIRST BAD RECORD line 4" in output and "missing" in output


def test_reordered_records_are_found(
    exported: tuple[list[bytes], Path, Path], tmp_path: Path
) -> None:
    lines, head, jwks = exported
    lines[2], lines[6] = lines[6], lines[2]
    code, output = _verify(lines, head, jwks, tmp_path)
    assert code == 1 and "FIRST BAD RECORD line 3" in output


def test_inserted_record_is_found(exported: tuple[list[bytes], Path, Path], tmp_path: Path) -> None:
    lines, head, jwks = exported
    forged = _edit(lines[0], id="rec_forged", seq=5)
    forged["leaf_hash"] = leaf_hash(leaf_bytes_of(forged)).hex()
    lines.insert(5, canonical_json(forged) + b"\n")
    code, output = _verify(lines, head, jwks, tmp_path)
    assert code == 1 and "FIRST BAD RECORD line 7" in output


def test_renumbered_insertion_still_breaks_the_root(
    exported: tuple[list[bytes], Path, Path], tmp_path: Path
) -> None:
    lines, head, jwks = exported
    forged = _edit(lines[0], id="rec_forged")
    records = [orjson.loads(x) for x in lines]
    records.insert(5, forged)
    out = []
    for seq, record in enumerate(records):
        record["seq"] = seq
        record["leaf_hash"] = leaf_hash(leaf_bytes_of(record)).hex()
        out.append(canonical_json(record) + b"\n")
    code, output = _verify(out, head, jwks, tmp_path)
    assert code == 1 and "10 records, the head covers 9" in output


def test_forged_head_is_refused(exported: tuple[list[bytes], Path, Path], tmp_path: Path) -> None:
    lines, head, jwks = exported
    doc = json.loads(head.read_text())
    doc["size"] = 8
    head.write_text(json.dumps(doc))
    code, output = _verify(lines[:8], head, jwks, tmp_path)
    assert code == 1 and "signature does not verify" in output


def test_missing_files_are_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "evidence",
            "verify",
            str(tmp_path / "x"),
            "--head",
            str(tmp_path / "h"),
            "--jwks",
            str(tmp_path / "j"),
        ],
    )
    assert result.exit_code == 2 and "no file" in result.output


def test_a_repeated_record_and_an_unreadable_line_are_named(
    exported: tuple[list[bytes], Path, Path], tmp_path: Path
) -> None:
    lines, head, jwks = exported
    lines[8] = lines[0]  # the first record again, last
    lines.insert(4, b"\n")  # a blank line is no record
    lines.insert(6, b"{not json\n")
    code, output = _verify(lines, head, jwks, tmp_path)
    assert code == 1 and "FIRST BAD RECORD line 7" in output
    assert "line 7: not an evidence record" in output
    assert "line 11:" in output and "appears twice" in output


def test_the_parts_and_the_whole_give_the_same_verdict(
    exported: tuple[list[bytes], Path, Path], tmp_path: Path
) -> None:
    lines, head, jwks = exported
    head_doc, jwks_doc = json.loads(head.read_text()), json.loads(jwks.read_text())
    tampered = [
        lines,
        [*lines[:3], *lines[4:]],
        [*lines[:2], lines[6], *lines[3:6], lines[2], *lines[7:]],
        [*lines, lines[1]],
        [lines[0], b"garbage\n", *lines[1:]],
        [*lines[:5], canonical_json(_edit(lines[5], purpose="x")) + b"\n", *lines[6:]],
    ]
    for n, variant in enumerate(tampered):
        export = tmp_path / f"export-{n}.ndjson"
        export.write_bytes(b"".join(variant))
        whole = verify.verify_export(variant, head_doc, jwks_doc)
        for workers in (2, 3, 5):
            assert verify.verify_export_file(export, head_doc, jwks_doc, workers) == whole, (
                n,
                workers,
            )
