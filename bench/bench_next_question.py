"""`next-question` in process: customers with 50 answers each, over a bank of 500 questions.

Two paths are measured:
- ``new_question``: the cool-down set to 0 and a new visit on every call, so each call reads
  the customer's answers (50 decryptions), runs the whole policy over 500 questions, and
  records the ask in a write transaction with the customer locked — the worst case;
- ``in_cool_down``: the default 3-day cool-down after the first ask, the common case (read,
  decide, answer nothing).

    python bench/bench_next_question.py [DATABASE_URL] [ENGINE_LABEL]
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import update

from _common import summary_ms, write
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.domain.clock import to_micros
from consentry.domain.questions import AskChannel
from consentry.schemas.consents import Actor, ConsentChange
from consentry.schemas.customers import CustomerCreate
from consentry.schemas.profiling import QuestionIn
from consentry.schemas.purposes import PurposeCreate
from consentry.services import consents, customers, profiling, purposes, questions
from consentry.services.hub import Hub
from consentry.settings import Settings
from consentry.store.tables import customers as customer_table

BANK = 500
ANSWERS = 50
CUSTOMERS = 200
CALLS = int(__import__("os").environ.get("CALLS", 5000))
ADMIN = Caller("bench", "bench", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
CHANNELS = ["web", "app", "store", "email", "checkout"]


def _bank(rng: random.Random) -> list[QuestionIn]:
    out: list[QuestionIn] = []
    for n in range(BANK):
        stage = 1 + n * 3 // BANK
        kind = rng.choice(["single_choice", "multiple_choice", "yes_no", "free_text"])
        body: dict[str, object] = {
            "id": f"q{n:03d}",
            "text": {"en": f"Question {n}?", "de": f"Frage {n}?"},
            "kind": kind,
            "topic": rng.choice(["style", "family", "travel", "diet", "home", "sport"]),
            "stage": stage,
            "points": 5 * rng.randint(1, 5),
            "channels": rng.sample(CHANNELS, rng.randint(1, 5)),
            "sensitive": stage == 3 and rng.random() < 0.1,
        }
        if body["sensitive"]:
            body["channels"] = ["web", "app"]
        if kind in ("single_choice", "multiple_choice"):
            body["options"] = [{"value": f"o{i}", "label": f"Option {i}"} for i in range(6)]
        if n > 20 and rng.random() < 0.3:  # a prerequisite on an earlier yes/no or choice
            earlier = [b for b in out if b.kind.value in ("yes_no", "single_choice")]
            pre = rng.choice(earlier)
            wanted = ["yes"] if pre.kind.value == "yes_no" else ["o1", "o2"]
            body["requires"] = [{"question": pre.id, "answered_with": wanted}]
        if rng.random() < 0.2:
            body["valid_days"] = 90
        out.append(QuestionIn.model_validate(body))
    return out


def main(url: str | None, label: str) -> None:
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), database_url=url, profiling_cooldown_days=0)
        hub = Hub.open(settings)
        with hub.db.write() as conn:
            purposes.create(
                hub,
                conn,
                PurposeCreate(
                    id="preferences",
                    title="Ask me",
                    description="One question now and then.",
                    legal_basis="consent",
                    channels=[],
                ),
            )
        bank = _bank(rng)
        _counts, problems = questions.load(hub, bank)
        assert not problems, problems
        ids = []
        long_ago = to_micros(hub.now()) - 400 * 86_400_000_000
        for _ in range(CUSTOMERS):
            with hub.db.write() as conn:
                cid = customers.create(hub, conn, CustomerCreate())["id"]
                conn.execute(
                    update(customer_table)
                    .where(customer_table.c.id == cid)
                    .values(created_at=long_ago)
                )
                consents.record_change(
                    hub,
                    conn,
                    ADMIN,
                    cid,
                    ConsentChange(
                        purpose="preferences",
                        action="grant",
                        notice_version=1,
                        source="web",
                        actor=Actor(type="customer"),
                    ),
                )
                for q in rng.sample(bank[:300], ANSWERS):
                    value: object = {
                        "single_choice": "o1",
                        "multiple_choice": ["o1", "o3"],
                        "yes_no": True,
                        "free_text": "a bike",
                    }[q.kind.value]
                    profiling.answer(
                        hub, conn, ADMIN, cid, q.id, value, AskChannel.WEB, Actor(type="customer")
                    )
            ids.append(cid)
        hub.sequencer.integrate_all()

        def run(visit_of: object) -> tuple[list[float], int]:
            samples, asked = [], 0
            for i in range(CALLS):
                cid = ids[i % len(ids)]
                t0 = time.perf_counter()
                question = profiling.next_question(
                    hub,
                    ADMIN,
                    cid,
                    AskChannel.WEB,
                    visit_of(i),  # type: ignore[operator]
                )
                samples.append(time.perf_counter() - t0)
                asked += question is not None
            return samples, asked

        run(lambda i: f"warm-{i}")
        new_samples, new_asked = run(lambda i: f"visit-{i}")
        hub.settings.profiling_cooldown_days = 3
        cool_samples, cool_asked = run(lambda i: f"later-{i}")
        hub.close()
    assert new_asked == CALLS and cool_asked == 0, (new_asked, cool_asked)
    write(
        f"next_question_{label}",
        {
            "engine": label,
            "bank": BANK,
            "answers_per_customer": ANSWERS,
            "customers": CUSTOMERS,
            "new_question": {"count": CALLS, **summary_ms(new_samples)},
            "in_cool_down": {"count": CALLS, **summary_ms(cool_samples)},
            "goal_p99_ms": 5,
        },
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None, sys.argv[2] if len(sys.argv) > 2 else "sqlite")
