"""The first pass of a parallel import reads a CSV's tying columns straight from its lists:
the keys must be those of the rows as ``read_rows`` gives them, row for row."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from consentry.services.import_workers import _Groups, _keys, row_keys
from consentry.services.importer import read_rows

CSV = (
    "email,phone,purpose,action,external_id,customer_id,loyalty_card,email\n"
    "first@example.com,,newsletter,grant,a-1,,,ANN@Example.com\n"
    "\n"
    ",+447700900001,newsletter,grant,  a-2 ,,,\n"
    ",,newsletter,grant,,cus_1,ab 12,\n"  # card spaced, id without identifiers
    ",not a phone,newsletter,grant,a-3,,,bob@example.com\n"  # one bad identifier: ids only
    ",,newsletter\n"  # short: missing fields are empty
    ",,newsletter,grant,a-4,,,eve@example.com,extra\n"  # long: an error, no keys
    ',,"news\nletter",grant,   ,,,  \n'  # blanks: no keys
    ",,newsletter,grant,a-5,,,not-an-address\n"
)


def test_a_csv_gives_the_keys_of_its_rows_as_read_rows_reads_them(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text(CSV)
    expected = [_keys("GB", raw) for _, raw in read_rows(path)]
    assert list(row_keys("GB", path)) == expected
    assert expected[0] == ["x:a-1", "email:ann@example.com"]  # the last "email" column
    assert expected[1] == ["x:a-2", "phone:+447700900001"]
    assert expected[2] == ["id:cus_1", "loyalty_card:AB12"]
    assert expected[3] == ["x:a-3"]
    assert expected[4:] == [[], [], [], ["x:a-5"]]


def test_an_ndjson_file_gives_the_keys_of_its_objects(tmp_path: Path) -> None:
    path = tmp_path / "rows.ndjson"
    path.write_text('{"email": " Ann@example.com", "external_id": 7}\n{oops\n{"phone": 12}\n')
    assert list(row_keys("GB", path)) == [["email:ann@example.com"], [], []]


@given(st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=3), max_size=30))
def test_rows_sharing_a_key_directly_or_through_others_get_one_root(rows: list[list[str]]) -> None:
    groups = _Groups()
    first = [groups.tie(keys) for keys in rows]
    roots = [groups.root(at) if at >= 0 else -1 for at in first]
    # The groups by hand: merge every two rows that share a key until nothing changes.
    together = [set(keys) for keys in rows]
    changed = True
    while changed:
        changed = False
        for a, b in combinations(range(len(rows)), 2):
            if together[a] & together[b] and together[a] != together[b]:
                together[a] = together[b] = together[a] | together[b]
                changed = True
    for a, b in combinations(range(len(rows)), 2):
        linked = bool(together[a] & together[b])
        assert (roots[a] == roots[b] >= 0) == linked
    # The root is the group's first key (so the shares do not depend on the order of ties).
    for row, keys in enumerate(rows):
        if keys:
            first_key = min(together[row], key=lambda k: groups.index[k])
            assert roots[row] == groups.index[first_key]
