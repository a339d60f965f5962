"""The asking policy, on its own: whatever sequence of visits, answers, declines, deletions,
consent changes and time passing, no rule is ever broken (hypothesis), and each rule does
what it says (examples)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consentry.domain.consent import MICROS_PER_DAY
from consentry.domain.profiling import (
    AnswerFact,
    AnswerStatus,
    LastAsk,
    ProfilingRules,
    Relationship,
    next_question,
    stage_of,
)
from consentry.domain.questions import (
    PRIVATE_CHANNELS,
    AskChannel,
    Option,
    Prerequisite,
    Question,
    QuestionKind,
    Stage,
    tokens,
)
from consentry.services.question_file import read_bank
from consentry.services.questions import definition, question_of

DEMO = Path(__file__).parents[2] / "src" / "consentry" / "data" / "demo-questions.yaml"
BANK = [
    question_of(SimpleNamespace(id=b.id, definition=definition(b), active=True, position=i))
    for i, b in enumerate(read_bank(DEMO))
]
BY_ID = {q.id: q for q in BANK}
RULES = ProfilingRules()
DAY = MICROS_PER_DAY
START = 1_800_000_000 * 1_000_000


def _answer_for(question: Question, pick: int) -> object:
    if question.options:
        values = [o.value for o in question.options]
        return values[pick % len(values)]
    return {"yes_no": pick % 2 == 0}.get(question.kind.value, "2027-05")


@st.composite
def banks(draw: st.DrawFn) -> list[Question]:
    """Small banks of every shape: stages, sensitivity, channels, prerequisites on earlier
    questions (answered any way or one way), intentions that expire."""
    out: list[Question] = []
    for n in range(draw(st.integers(1, 7))):
        stage = Stage(draw(st.integers(1, 3)))
        requires = ()
        if out and draw(st.booleans()):
            before = draw(st.sampled_from(out))
            wanted = draw(st.sets(st.sampled_from(["a", "b", "yes", "no"]), max_size=2))
            requires = (Prerequisite(before.id, frozenset(wanted)),)
        out.append(
            Question(
                id=f"q{n}",
                text={"en": f"Question {n}?"},
                kind=QuestionKind.SINGLE_CHOICE,
                topic=draw(st.sampled_from(["style", "travel"])),
                stage=stage,
                points=5,
                channels=frozenset(draw(st.sets(st.sampled_from(list(AskChannel)), min_size=1))),
                options=(Option("a", {"en": "A"}), Option("b", {"en": "B"})),
                requires=requires,
                sensitive=stage is Stage.TRUSTED and draw(st.booleans()),
                valid_days=draw(st.one_of(st.none(), st.integers(1, 30))),
                position=n,
            )
        )
    return out


op = st.one_of(
    # A visit goes on, or a new one starts (a visit that ended does not come back).
    st.tuples(st.just("visit"), st.sampled_from(list(AskChannel)), st.booleans()),
    st.tuples(st.just("answer"), st.integers(0, 7)),
    st.tuples(st.just("decline")),
    st.tuples(st.just("forget"), st.integers(0, 30)),
    st.tuples(st.just("time"), st.integers(0, 200)),
    st.tuples(st.just("consent"), st.booleans()),
    st.tuples(st.just("stop"), st.booleans()),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(op, max_size=80),
    st.integers(0, 400),
    st.floats(0, 5),
    st.integers(1, 120),
    # What the customer had told us before: any stage, any prerequisite answered either way.
    st.lists(st.integers(0, 20), max_size=12),
    st.one_of(st.just(BANK), banks()),
    st.integers(0, 6),
    st.integers(0, 120),
)
def test_no_rule_is_ever_broken(
    ops: list[tuple[object, ...]],
    tenure_days: int,
    cooldown: float,
    decline_days: int,
    told: list[int],
    bank: list[Question],
    stage_two_answers: int,
    stage_three_days: int,
) -> None:
    rules = replace(
        RULES,
        cooldown_days=cooldown,
        decline_days=decline_days,
        stage_two_answers=stage_two_answers,
        stage_three_answers=stage_two_answers + 2,
        stage_two_days=stage_three_days // 4,
        stage_three_days=stage_three_days,
    )
    by_id = {q.id: q for q in bank}
    now = START
    # Answers given before (and answers to questions no longer in the bank: they count too).
    earlier = {
        (bank[i].id if i < len(bank) else f"old{i}"): AnswerFact(
            AnswerStatus.ANSWERED,
            START - DAY,
            None,
            tokens(_answer_for(bank[i], i)) if i < len(bank) else frozenset(),
        )
        for i in told
    }
    rel = Relationship(
        consented=True, stopped=False, customer_since=START - tenure_days * DAY, answers=earlier
    )
    pending: str | None = None
    shown_in_visit: dict[str, set[str]] = {}
    visits = 0
    for step in ops:
        kind = step[0]
        if kind == "time":
            now += int(step[1]) * DAY // 4  # type: ignore[call-overload]
        elif kind == "consent":
            rel = replace(rel, consented=bool(step[1]))
        elif kind == "stop":
            rel = replace(rel, stopped=bool(step[1]))
        elif kind in ("answer", "decline") and pending is not None:
            question = by_id[pending]
            answers = dict(rel.answers)
            if kind == "answer":
                value = _answer_for(question, int(step[1]))  # type: ignore[call-overload]
                expires = now + question.valid_days * DAY if question.valid_days else None
                answers[pending] = AnswerFact(AnswerStatus.ANSWERED, now, expires, tokens(value))
            else:
                answers[pending] = AnswerFact(AnswerStatus.DECLINED, now)
            rel = replace(rel, answers=answers)
            pending = None
        elif kind == "forget" and rel.answers:
            answered = sorted(rel.answers)
            gone = answered[int(step[1]) % len(answered)]  # type: ignore[call-overload]
            rel = replace(
                rel, answers={**rel.answers, gone: AnswerFact(AnswerStatus.DECLINED, now)}
            )
        elif kind == "visit":
            channel = step[1]
            assert isinstance(channel, AskChannel)
            visits += 1 if step[2] else 0
            visit = f"v{visits}"
            before = rel.last_ask
            ask = next_question(bank, rel, channel, visit, now, rules, by_id)
            if ask is None:
                continue
            q = ask.question
            stage = stage_of(rel, now, rules)
            # consent, "stop asking me"
            assert rel.consented and not rel.stopped
            # one question per visit
            shown_in_visit.setdefault(visit, set()).add(q.id)
            assert len(shown_in_visit[visit]) == 1
            if ask.new:
                # the cool-down since the last question asked
                assert before is None or now >= before.at + cooldown * DAY
                rel = replace(rel, last_ask=LastAsk(q.id, now, visit))
            else:
                assert before is not None and before.visit == visit and before.question == q.id
            fact = rel.answers.get(q.id)
            # never a question answered (until expiry) or declined (for the decline period)
            assert fact is None or not fact.answered_at(now)
            assert not (
                fact is not None
                and fact.status is AnswerStatus.DECLINED
                and now < fact.at + decline_days * DAY
            )
            # stages, sensitivity, channels, prerequisites
            assert q.stage <= stage
            assert not q.sensitive or (stage is Stage.TRUSTED and channel in PRIVATE_CHANNELS)
            assert channel in q.channels and q.active
            for pre in q.requires:
                given_before = rel.answers[pre.question]
                assert given_before.answered_at(now)
                assert not pre.answered_with or pre.answered_with & given_before.values
            pending = q.id


def _rel(**kw: object) -> Relationship:
    base: dict[str, object] = {
        "consented": True,
        "stopped": False,
        "customer_since": START - 400 * DAY,
        "answers": {},
    }
    base.update(kw)
    return Relationship(**base)  # type: ignore[arg-type]


def test_an_icebreaker_comes_first_and_nothing_without_consent_or_after_stop() -> None:
    ask = next_question(BANK, _rel(), AskChannel.WEB, "v", START, RULES)
    assert ask is not None and ask.new and ask.question.stage == Stage.ICEBREAKER
    assert next_question(BANK, _rel(consented=False), AskChannel.WEB, "v", START, RULES) is None
    assert next_question(BANK, _rel(stopped=True), AskChannel.WEB, "v", START, RULES) is None


def test_one_question_a_visit_then_the_cool_down() -> None:
    rel = _rel(last_ask=LastAsk("favourite_colour", START, "v1"))
    again = next_question(BANK, rel, AskChannel.WEB, "v1", START + 10, RULES)
    assert again is not None and not again.new and again.question.id == "favourite_colour"
    assert next_question(BANK, rel, AskChannel.WEB, "v2", START + 2 * DAY, RULES) is None
    later = next_question(BANK, rel, AskChannel.WEB, "v2", START + 3 * DAY, RULES)
    assert later is not None and later.new


def test_declines_rest_for_ninety_days_and_intentions_expire() -> None:
    declined = {q.id: AnswerFact(AnswerStatus.DECLINED, START) for q in BANK}
    assert next_question(BANK, _rel(answers=declined), AskChannel.WEB, None, START, RULES) is None
    ask = next_question(BANK, _rel(answers=declined), AskChannel.WEB, None, START + 90 * DAY, RULES)
    assert ask is not None
    holiday = {
        **{q.id: AnswerFact(AnswerStatus.ANSWERED, START, None, frozenset({"x"})) for q in BANK},
        "holiday_plans": AnswerFact(
            AnswerStatus.ANSWERED, START, START + 120 * DAY, frozenset({"beach"})
        ),
    }
    assert next_question(BANK, _rel(answers=holiday), AskChannel.WEB, None, START, RULES) is None
    due = next_question(BANK, _rel(answers=holiday), AskChannel.WEB, None, START + 121 * DAY, RULES)
    assert due is not None and due.question.id == "holiday_plans"


def test_stages_grow_with_answers_and_time_and_sensitive_questions_stay_private() -> None:
    answered = {
        q.id: AnswerFact(AnswerStatus.ANSWERED, START, None, frozenset({"no"}))
        for q in BANK
        if not q.sensitive and q.id != "do_better"
    }
    new = _rel(customer_since=START - 5 * DAY, answers=answered)
    assert stage_of(new, START, RULES) is Stage.ICEBREAKER  # told a lot, but only 5 days in
    assert stage_of(_rel(answers={}), START, RULES) is Stage.ICEBREAKER  # long, told nothing
    trusted = _rel(answers=answered)
    assert stage_of(trusted, START, RULES) is Stage.TRUSTED
    at_web = next_question(BANK, trusted, AskChannel.WEB, None, START, RULES)
    assert at_web is not None and at_web.question.sensitive
    at_till = next_question(BANK, trusted, AskChannel.STORE, None, START, RULES)
    assert at_till is not None and not at_till.question.sensitive


def test_prerequisites_follow_the_earlier_answer() -> None:
    told = {
        q.id: AnswerFact(AnswerStatus.ANSWERED, START, None, frozenset({"x"}))
        for q in BANK
        if q.stage < 3 and q.id not in ("has_pets", "pet_kinds")
    }
    no_pets = {**told, "has_pets": AnswerFact(AnswerStatus.ANSWERED, START, None, tokens(False))}
    pets = {**told, "has_pets": AnswerFact(AnswerStatus.ANSWERED, START, None, tokens(True))}
    rel = _rel(customer_since=START - 30 * DAY)
    ask = next_question(BANK, replace(rel, answers=no_pets), AskChannel.STORE, None, START, RULES)
    assert ask is None or ask.question.id != "pet_kinds"
    ask = next_question(BANK, replace(rel, answers=pets), AskChannel.STORE, None, START, RULES)
    assert ask is not None and ask.question.id == "pet_kinds"
