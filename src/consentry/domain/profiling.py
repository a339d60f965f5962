"""Progressive profiling: which one question, if any, may be put to a customer now.

The rules, all of them in ``next_question``:

- nothing without the customer's consent to the profiling purpose, nothing once they said
  "stop asking me";
- one question per visit: within the visit that was last asked, the pending question is shown
  again (a reload is not a new question) and nothing else;
- no new question within the cool-down after the last question asked;
- never a question answered (until the answer expires) or declined (for ``decline_days``);
- never a stage above the relationship's stage; sensitive questions only at the top stage and
  only on private channels; only on the question's channels; only once its prerequisites hold.

Among the questions that may be asked, the lowest stage comes first (an icebreaker before deeper
questions), then the topic the customer has told us least about (variety), then bank order.

The relationship's stage (``stage_of``) grows with what the customer has shared and how long
they have been a customer: stage 2 from ``stage_two_answers`` answers *and* ``stage_two_days``
days, stage 3 from ``stage_three_answers`` answers *and* ``stage_three_days`` days.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from consentry.domain.consent import MICROS_PER_DAY
from consentry.domain.questions import PRIVATE_CHANNELS, AskChannel, Question, Stage


class AnswerStatus(StrEnum):
    ANSWERED = "answered"
    DECLINED = "declined"


@dataclass(frozen=True)
class ProfilingRules:
    cooldown_days: float = 3
    decline_days: int = 90
    stage_two_answers: int = 3
    stage_two_days: int = 14
    stage_three_answers: int = 8
    stage_three_days: int = 90


@dataclass(frozen=True)
class AnswerFact:
    """What the policy knows of one answer: when, until when, and its values."""

    status: AnswerStatus
    at: int
    expires_at: int | None = None
    values: frozenset[str] = frozenset()

    def answered_at(self, now: int) -> bool:
        return self.status is AnswerStatus.ANSWERED and (
            self.expires_at is None or now < self.expires_at
        )


@dataclass(frozen=True)
class LastAsk:
    question: str
    at: int
    visit: str | None


@dataclass(frozen=True)
class Relationship:
    """One customer, as far as asking goes."""

    consented: bool
    stopped: bool
    customer_since: int
    answers: Mapping[str, AnswerFact]
    last_ask: LastAsk | None = None


def stage_of(rel: Relationship, now: int, rules: ProfilingRules) -> Stage:
    shared = sum(1 for a in rel.answers.values() if a.status is AnswerStatus.ANSWERED)
    days = (now - rel.customer_since) / MICROS_PER_DAY
    if shared >= rules.stage_three_answers and days >= rules.stage_three_days:
        return Stage.TRUSTED
    if shared >= rules.stage_two_answers and days >= rules.stage_two_days:
        return Stage.GETTING_TO_KNOW
    return Stage.ICEBREAKER


@dataclass(frozen=True)
class Ask:
    question: Question
    # False when the visit's pending question is shown again: no new ask to record.
    new: bool


def askable(
    question: Question,
    rel: Relationship,
    channel: AskChannel,
    stage: Stage,
    now: int,
    rules: ProfilingRules,
) -> bool:
    """May this question be put to this customer, on this channel, now (visits aside)?"""
    if not question.active or channel not in question.channels or question.stage > stage:
        return False
    if question.sensitive and (stage < Stage.TRUSTED or channel not in PRIVATE_CHANNELS):
        return False
    fact = rel.answers.get(question.id)
    if fact is not None:
        if fact.answered_at(now):
            return False
        if (
            fact.status is AnswerStatus.DECLINED
            and now < fact.at + rules.decline_days * MICROS_PER_DAY
        ):
            return False
    for pre in question.requires:
        before = rel.answers.get(pre.question)
        if before is None or not before.answered_at(now):
            return False
        if pre.answered_with and not pre.answered_with & before.values:
            return False
    return True


def next_question(
    bank: Iterable[Question],
    rel: Relationship,
    channel: AskChannel,
    visit: str | None,
    now: int,
    rules: ProfilingRules,
    by_id: Mapping[str, Question] | None = None,
) -> Ask | None:
    if not rel.consented or rel.stopped:
        return None
    stage = stage_of(rel, now, rules)
    last = rel.last_ask
    if last is not None and visit is not None and last.visit == visit:
        pending = (by_id or {q.id: q for q in bank}).get(last.question)
        if pending is not None and askable(pending, rel, channel, stage, now, rules):
            return Ask(pending, new=False)
        return None
    if last is not None and now < last.at + rules.cooldown_days * MICROS_PER_DAY:
        return None
    told = (
        Counter(
            q.topic
            for q in bank
            if (fact := rel.answers.get(q.id)) is not None and fact.status is AnswerStatus.ANSWERED
        )
        if rel.answers
        else Counter[str]()
    )
    best: tuple[int, int, int] | None = None
    chosen: Question | None = None
    for question in bank:
        if question.stage > stage or not askable(question, rel, channel, stage, now, rules):
            continue
        rank = (question.stage, told[question.topic], question.position)
        if best is None or rank < best:
            best, chosen = rank, question
    return Ask(chosen, new=True) if chosen is not None else None
