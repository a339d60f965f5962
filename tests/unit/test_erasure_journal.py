"""The erasure journal: durable lines, a torn last line skipped, one file per host in a
shared directory."""

from __future__ import annotations

import socket
from pathlib import Path

from consentry.store.erasure_journal import ErasureJournal


def test_a_file_journal_keeps_every_erasure_and_skips_a_torn_line(tmp_path: Path) -> None:
    journal = ErasureJournal(tmp_path / "j" / "erasures.journal")
    assert list(journal.entries()) == []
    journal.record("cus_a", 1)
    journal.record("cus_b", 2)
    with open(journal.path, "ab") as torn:
        torn.write(b'{"customer": "cus_c", "a')
    assert [(e.customer_id, e.erased_at) for e in journal.entries()] == [("cus_a", 1), ("cus_b", 2)]
    assert oct(journal.path.stat().st_mode & 0o777) == "0o600"


def test_a_directory_journal_has_a_file_per_host(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "other-host.journal").write_bytes(b'{"customer": "cus_x", "at": 5}\n')
    journal = ErasureJournal(shared)
    journal.record("cus_y", 6)
    assert (shared / f"{socket.gethostname()}.journal").exists()
    assert {e.customer_id for e in journal.entries()} == {"cus_x", "cus_y"}
