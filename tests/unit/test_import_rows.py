"""read_rows: what DictReader gives for a CSV (blank lines, short and long rows), and only
the rows a worker wants when it names them by position."""

from __future__ import annotations

import csv
from pathlib import Path

from consentry.services.importer import read_rows

CSV = (
    "email,purpose,action\n"
    "ann@example.com,newsletter,grant\n"
    "\n"
    'bob@example.com,"news, letter",withdraw\n'
    "cy@example.com,newsletter\n"
    "dee@example.com,newsletter,grant,extra\n"
    ',"two\nlines",grant\n'
    "eve@example.com,,grant\n"
)


def as_dict_reader_reads(path: Path) -> list[tuple[int, dict[str, str | None] | str]]:
    """What the importer read with csv.DictReader before it read with csv.reader."""
    rows: list[tuple[int, dict[str, str | None] | str]] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            if None in row:
                rows.append((reader.line_num, "more fields than the header names"))
                continue
            rows.append((reader.line_num, {k: v if v != "" else None for k, v in row.items()}))
    return rows


def test_a_csv_reads_as_dict_reader_read_it(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(CSV)
    rows = list(read_rows(path))
    assert rows == as_dict_reader_reads(path)
    assert rows[2] == (5, {"email": "cy@example.com", "purpose": "newsletter", "action": None})
    assert rows[3] == (6, "more fields than the header names")
    assert rows[4][0] == 8  # the line the two-line row ends on


def test_wanted_rows_are_the_same_rows_by_position(tmp_path: Path) -> None:
    for name, text in (
        ("rows.csv", CSV),
        ("rows.ndjson", '{"a": 1}\n\n{oops\n[2]\n{"a": 3}\n'),
    ):
        path = tmp_path / name
        path.write_text(text)
        every = list(read_rows(path))
        for me in range(3):
            mine = list(read_rows(path, lambda position, me=me: position % 3 == me))
            assert mine == every[me::3]
