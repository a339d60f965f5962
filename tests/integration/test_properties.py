"""Property tests: whatever happens, current state equals a replay of the evidence, and every
signed head and every proof verifies."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.audit.verify import verify_export
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.domain.clock import parse_rfc3339, to_micros
from consentry.domain.consent import ALL_CHANNELS, Action, ConsentEntry, in_force
from consentry.domain.merkle import verify_consistency, verify_inclusion
from consentry.schemas.consents import ConsentChange
from consentry.schemas.customers import CustomerCreate
from consentry.schemas.purposes import PurposeCreate, PurposeUpdate
from consentry.services import consents, customers, evidence, purposes
from consentry.services.hub import Hub
from consentry.settings import Settings

ADMIN = Caller("t", "t", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
CHANNELS = [None, "email", "sms"]

op = st.one_of(
    st.tuples(
        st.just("change"),
        st.integers(0, 1),
        st.sampled_from(["a", "b"]),
        st.sampled_from(CHANNELS),
        st.sampled_from(["grant", "withdraw"]),
        st.integers(0, 3),
    ),
    st.tuples(st.just("reconsent"), st.sampled_from(["a", "b"])),
    st.tuples(st.just("time"), st.integers(1, 400)),
    st.tuples(st.just("integrate")),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=30))
def test_state_is_a_replay_of_the_evidence(ops: list[tuple[object, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        now = [datetime(2026, 1, 1, tzinfo=UTC)]
        hub = Hub.open(Settings(data_dir=Path(tmp)))
        hub.clock = lambda: now[0]
        hub.sequencer.clock = hub.clock
        try:
            _run(hub, ops, now)
        finally:
            hub.close()


def _run(hub: Hub, ops: list[tuple[object, ...]], now: list[datetime]) -> None:
    with hub.db.write() as conn:
        for pid in ("a", "b"):
            purposes.create(
                hub,
                conn,
                PurposeCreate(
                    id=pid,
                    title=pid,
                    description="d",
                    legal_basis="consent",
                    channels=["email", "sms"],
                    expires_after_days=365,
                ),
            )
        cids = [customers.create(hub, conn, CustomerCreate())["id"] for _ in range(2)]
    heads = []
    for step in ops:
        kind = step[0]
        with hub.db.write() as conn:
            if kind == "change":
                _, who, pid, channel, action, back_days = step
                version = purposes.require(conn, str(pid)).version
                consents.record_change(
                    hub,
                    conn,
                    ADMIN,
                    cids[int(who)],
                    ConsentChange(
                        purpose=pid,
                        channel=channel,
                        action=action,
                        notice_version=version,
                        source="store",
                        actor={"type": "customer"},
                        captured_at=now[0] - timedelta(days=int(back_days)),
                    ),
                )
            elif kind == "reconsent":
                current = purposes.require(conn, str(step[1]))
                purposes.update(
                    hub,
                    conn,
                    str(step[1]),
                    PurposeUpdate(description=current.description + "+", reconsent=True),
                )
        if kind == "time":
            now[0] += timedelta(days=int(step[1]))
        elif kind == "integrate":
            head = hub.sequencer.integrate_all()
            if head:
                heads.append(head)
    final = evidence.head(hub)
    lines = list(evidence.export_lines(hub, final.size))
    verdict = verify_export(lines, final.as_json(), hub.signer.jwks())
    assert verdict.ok, verdict.problems

    replay: dict[tuple[str, str, str], ConsentEntry] = {}
    for raw in lines:
        leaf = orjson.loads(raw)
        entry = ConsentEntry(
            Action(leaf["action"]),
            leaf["purpose_version"],
            leaf["id"],
            to_micros(parse_rfc3339(leaf["captured_at"])),
            leaf["seq"],
        )
        key = (leaf["customer_id"], leaf["purpose"], leaf["channel"] or ALL_CHANNELS)
        if entry.supersedes(replay.get(key)):
            replay[key] = entry
    for cid in cids:
        for item in consents.list_consents(hub, ADMIN, cid)["consents"]:
            expected = in_force(
                replay.get((cid, item["purpose"], item["channel"])),
                replay.get((cid, item["purpose"], ALL_CHANNELS)),
            )
            assert item["record_id"] == (expected.record_id if expected else None)

    tree = hub.tree.at_least(final.size)
    assert tree.root().hex() == final.root_hash
    for raw in lines:
        leaf = orjson.loads(raw)
        proof = evidence.inclusion_proof(hub, leaf["id"], final.size)
        assert verify_inclusion(
            leaf["seq"],
            final.size,
            bytes.fromhex(leaf["leaf_hash"]),
            [bytes.fromhex(p) for p in proof["audit_path"]],
            bytes.fromhex(final.root_hash),
        )
    for head in heads:
        proof = evidence.consistency_proof(hub, head.size, final.size)
        assert verify_consistency(
            head.size,
            final.size,
            bytes.fromhex(head.root_hash),
            bytes.fromhex(final.root_hash),
            [bytes.fromhex(p) for p in proof["proof"]],
        )
