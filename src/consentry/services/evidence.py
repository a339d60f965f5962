"""The evidence log as auditors and customers see it: heads, proofs, export, receipts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from consentry.domain.access import Caller
from consentry.domain.canonical import canonical_json
from consentry.domain.clock import parse_rfc3339, to_micros
from consentry.domain.consent import Action, ConsentEntry, Status, status_of
from consentry.domain.errors import Forbidden, InvalidInput, NotFound, NotYetIntegrated
from consentry.domain.heads import TreeHead
from consentry.domain.notes import (
    NoteError,
    NoteKey,
    parse_checkpoint,
    parse_note,
    verify,
)
from consentry.domain.purposes import Purpose
from consentry.domain.receipts import receipt_payload
from consentry.domain.tlog_proof import TlogProof
from consentry.services.checkpoints import checkpoint_of
from consentry.services.consents import opened, record_json
from consentry.services.hub import Hub
from consentry.store import consents as consent_store
from consentry.store import cosignatures as cosignature_store
from consentry.store import evidence as store
from consentry.store import purposes as purpose_store


def head(hub: Hub) -> TreeHead:
    """A signed head covering every acknowledged record: pending leaves are integrated first."""
    hub.sequencer.integrate_all()
    with hub.db.read() as conn:
        latest = store.latest_head(conn)
    assert latest is not None  # the hub signs the empty head on start
    return latest


def checkpoint(hub: Hub) -> str:
    """The signed head as a C2SP checkpoint (c2sp.org/tlog-checkpoint), a signed note with the
    log's Ed25519 key, its key name the log's origin, and the witnesses' cosignatures of it
    received so far."""
    latest = head(hub)
    return checkpoint_of(hub, latest.size, latest.root_hash)


def witness_keys(hub: Hub) -> list[NoteKey]:
    return [NoteKey.parse(vkey) for vkey in hub.settings.witnesses]


# A witness's clock may run a little ahead of ours; a cosignature further in the future is
# refused (c2sp.org/tlog-cosignature lets verifiers reject them).
COSIGNATURE_SKEW_SECONDS = 300


def add_cosignatures(hub: Hub, body: bytes) -> dict[str, Any]:
    """Keep the cosignatures of configured witnesses on one of this log's checkpoints: the
    body is the checkpoint as the hub served it with the witness's signature lines added."""
    try:
        note = parse_note(body)
        checkpoint = parse_checkpoint(note.text)
    except NoteError as exc:
        raise InvalidInput(str(exc), [{"loc": ["body"], "msg": str(exc)}]) from None
    own = hub.signer.note_key(hub.settings.resolved_log_origin)
    try:
        verify(note, [own])
    except NoteError:
        raise Forbidden("not a checkpoint this log signed") from None
    witnesses = [k for k in witness_keys(hub) if (k.name, k.key_id) != (own.name, own.key_id)]
    try:
        found = verify(note, witnesses)
    except NoteError as exc:
        raise Forbidden(f"no valid cosignature of a configured witness: {exc}") from None
    now = hub.now_micros()
    late = now // 1_000_000 + COSIGNATURE_SKEW_SECONDS
    for key, signature in found:
        if (signature.timestamp or 0) > late:
            raise InvalidInput(
                f"the cosignature of {key.name} is dated in the future",
                [{"loc": ["body"], "msg": "cosignature time in the future"}],
            )
    with hub.db.write() as conn:
        for key, signature in found:
            cosignature_store.keep(
                conn,
                {
                    "witness": key.name,
                    "size": checkpoint.size,
                    "root_hash": checkpoint.root.hex(),
                    "key_id": key.key_id.hex(),
                    "signature": signature.signature,
                    "cosigned_at": signature.timestamp or 0,
                    "received_at": now,
                },
            )
    kept = [key.name for key, _ in found]
    return {"size": checkpoint.size, "witnesses": kept}


def checkpoint_key(hub: Hub) -> str:
    """The verifier key (c2sp.org/signed-note) of the log's checkpoints."""
    return hub.signer.note_key(hub.settings.resolved_log_origin).vkey()


def latest_head(hub: Hub) -> TreeHead:
    with hub.db.read() as conn:
        latest = store.latest_head(conn)
    return latest if latest is not None else head(hub)


def inclusion_proof(hub: Hub, record_id: str, size: int | None) -> dict[str, Any]:
    with hub.db.read() as conn:
        found = store.seq_of(conn, record_id)
        current = store.latest_head(conn)
    if found is None:
        raise NotFound(f"no evidence record {record_id!r}")
    seq, leaf_hash = found
    if seq is None:
        raise NotYetIntegrated(
            "the record is acknowledged but not yet in the tree; ask again in a second"
        )
    tree_size = size if size is not None else (current.size if current else 0)
    if current is None or tree_size > current.size:
        raise InvalidInput(
            f"no signed head of size {tree_size} yet",
            [{"loc": ["query", "size"], "msg": "larger than the log"}],
        )
    if seq >= tree_size:
        raise InvalidInput(
            f"record {seq} is not in a tree of size {tree_size}",
            [{"loc": ["query", "size"], "msg": f"must be above {seq}"}],
        )
    tree = hub.tree.at_least(tree_size)
    return {
        "leaf_index": seq,
        "tree_size": tree_size,
        "audit_path": [h.hex() for h in tree.inclusion_proof(seq, tree_size)],
        "leaf_hash": leaf_hash.hex(),
        "root_hash": tree.root(tree_size).hex(),
    }


def consistency_proof(hub: Hub, old_size: int, new_size: int) -> dict[str, Any]:
    current = latest_head(hub)
    if not 0 <= old_size <= new_size or new_size > current.size:
        raise InvalidInput(
            f"need 0 <= from <= to <= {current.size} (the log's size)",
            [{"loc": ["query"], "msg": "sizes out of range"}],
        )
    tree = hub.tree.at_least(new_size)
    return {"proof": [h.hex() for h in tree.consistency_proof(old_size, new_size)]}


def export_range(hub: Hub, start: int, end: int | None) -> tuple[TreeHead, int]:
    """The head an export answers with, and the size it stops at: ``end`` (a size the log
    reached) or the head's."""
    current = head(hub)
    stop = current.size if end is None else end
    if not 0 <= start <= stop <= current.size:
        raise InvalidInput(
            f"need 0 <= from <= to <= {current.size} (the log's size)",
            [{"loc": ["query"], "msg": "sizes out of range"}],
        )
    return current, stop


def export_lines(hub: Hub, size: int, start: int = 0) -> Iterator[bytes]:
    """One line a leaf in ``seq`` order: the leaf with its ``seq`` and ``leaf_hash`` beside it."""
    for seq, leaf, leaf_hash in store.export_rows(hub.db, size, start=start):
        line = orjson.loads(leaf)
        line["seq"] = seq
        line["leaf_hash"] = leaf_hash.hex()
        yield canonical_json(line) + b"\n"


def receipt_bundle(hub: Hub, caller: Caller, record_id: str) -> dict[str, str]:
    """The receipt with what proves it offline: a c2sp.org/tlog-proof whose extra data is the
    record's leaf, proven against the checkpoint holding it that most witnesses cosigned (the
    current head if none has been cosigned yet)."""
    jws = receipt(hub, caller, record_id)
    current = head(hub)  # integrates the record if it was still pending
    with hub.db.read() as conn:
        row = consent_store.record_by_id(conn, record_id)
        assert row is not None and row.seq is not None
        cosigned = cosignature_store.best_covering(conn, row.seq)
    size, root_hash = cosigned or (current.size, current.root_hash)
    tree = hub.tree.at_least(size)
    proof = TlogProof(
        index=row.seq,
        path=tuple(tree.inclusion_proof(row.seq, size)),
        checkpoint=checkpoint_of(hub, size, root_hash),
        extra=bytes(row.leaf),
    )
    return {"receipt": jws, "tlog_proof": proof.render()}


def receipt(hub: Hub, caller: Caller, record_id: str) -> str:
    with hub.db.read() as conn:
        row = consent_store.record_by_id(conn, record_id)
        if row is None:
            raise NotFound(f"no evidence record {record_id!r}")
        leaf = orjson.loads(row.leaf)
        caller.require_purpose(leaf["purpose"])
        purpose = purpose_store.get(conn, leaf["purpose"])
    assert purpose is not None
    record = record_json(
        leaf, row.seq, bytes(row.leaf_hash), opened(hub, leaf["customer_id"], row.sealed)
    )
    return signed_receipt(hub, record, row.pk, purpose)


def signed_receipt(hub: Hub, record: dict[str, Any], order: int, purpose: Purpose) -> str:
    """The JWS consent receipt of a record (as the API shows it) already read."""
    entry = ConsentEntry(
        Action(record["action"]),
        record["purpose_version"],
        record["id"],
        to_micros(parse_rfc3339(record["captured_at"])),
        order,
    )
    expired = status_of(purpose, entry, hub.now_micros()) is Status.EXPIRED
    settings = hub.settings
    claims = receipt_payload(
        record=record,
        purpose_title=purpose.title,
        purpose_sensitive=purpose.sensitive,
        legal_basis=purpose.legal_basis.value,
        controller={
            "piiController": settings.controller_name,
            "contact": settings.controller_contact,
        },
        jurisdiction=settings.jurisdiction,
        policy_url=settings.policy_url,
        issued_at=hub.now(),
        expired=expired,
    )
    return hub.signer.sign_jws(claims)
