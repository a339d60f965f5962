"""`consentry evidence verify` on an export of 1,000,000 records (made here with the same
domain code the server uses, signed with a throw-away key)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write
from consentry.domain.canonical import canonical_json
from consentry.domain.clock import rfc3339, utcnow
from consentry.domain.consent import Action, ActorType, Source
from consentry.domain.evidence import EvidenceRecord
from consentry.domain.heads import head_payload
from consentry.domain.ids import new_id
from consentry.domain.merkle import CompactRange
from consentry.signing import Signer


def make_export(folder: Path, count: int) -> None:
    signer = Signer.load_or_create(folder / "key.pem")
    tree = CompactRange()
    stamp = rfc3339(utcnow())
    cid = new_id("cus")
    with (folder / "export.ndjson").open("wb") as out:
        for seq in range(count):
            if seq % 6 == 0:
                cid = new_id("cus")
            record = EvidenceRecord(
                id=new_id("rec"),
                customer_id=cid,
                purpose="newsletter",
                purpose_version=1,
                notice_hash="0" * 64,
                channel="email",
                action=Action.GRANT if seq % 3 else Action.WITHDRAW,
                source=Source.STORE,
                actor_type=ActorType.STAFF,
                actor_commitment="1" * 64,
                location_commitment="2" * 64,
                proof_commitment=None,
                captured_at=stamp,
                recorded_at=stamp,
            )
            leaf_hash = record.leaf_hash
            tree.append(leaf_hash)
            out.write(
                canonical_json({**record.leaf(), "seq": seq, "leaf_hash": leaf_hash.hex()}) + b"\n"
            )
    root = tree.root().hex()
    head = {
        "size": count,
        "root_hash": root,
        "timestamp": stamp,
        "signature": signer.sign(head_payload(count, root, stamp)),
        "key_id": signer.key_id,
    }
    (folder / "head.json").write_text(json.dumps(head))
    (folder / "jwks.json").write_text(json.dumps(signer.jwks()))


def main(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_export(folder, count)
        size_mb = (folder / "export.ndjson").stat().st_size / 1e6
        os.sync()  # the export just written is not flushed to disk while the verifier runs
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            result = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "consentry.cli",
                    "evidence",
                    "verify",
                    str(folder / "export.ndjson"),
                    "--head",
                    str(folder / "head.json"),
                    "--jwks",
                    str(folder / "jwks.json"),
                ],
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - t0)
            assert result.returncode == 0, result.stderr
    elapsed = statistics.median(times)
    write(
        "verify",
        {
            "records": count,
            "export_mb": round(size_mb, 1),
            "verify_s": round(elapsed, 2),  # the median of three runs
            "runs_s": [round(t, 2) for t in times],
            "records_per_s": round(count / elapsed),
        },
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
