"""Progressive profiling: the next question, answers and declines, "stop asking me", points.

The rules live in ``domain.profiling``; this module reads what they need, records each new ask
and each answer, and pays points once per question.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from consentry.domain.access import Caller
from consentry.domain.changes import ChangeType
from consentry.domain.clock import rfc3339_micros
from consentry.domain.consent import ALL_CHANNELS, MICROS_PER_DAY, ActorType, decide, in_force
from consentry.domain.errors import Conflict, InvalidInput, NotFound
from consentry.domain.ids import new_id
from consentry.domain.profiling import (
    AnswerFact,
    AnswerStatus,
    LastAsk,
    ProfilingRules,
    Relationship,
)
from consentry.domain.profiling import (
    next_question as choose,
)
from consentry.domain.questions import ANSWER, PRIVATE_CHANNELS, AskChannel, Question, tokens
from consentry.schemas.consents import Actor
from consentry.services import changes, customers, insight_counts
from consentry.services.hub import Hub
from consentry.services.questions import bank, gating
from consentry.store import consents as consent_store
from consentry.store import profiling as store
from consentry.store import purposes as purpose_store
from consentry.store.customers import CustomerRow
from consentry.store.pagination import check_limit, decode_cursor, encode_cursor

# A purpose's channel that stands for an asking channel of another name.
_PURPOSE_CHANNEL = {AskChannel.APP: "in_app"}


class InsufficientPoints(Conflict):
    title = "Not enough points"
    slug = "insufficient-points"


def rules(hub: Hub) -> ProfilingRules:
    s = hub.settings
    return ProfilingRules(
        cooldown_days=s.profiling_cooldown_days,
        decline_days=s.profiling_decline_days,
        stage_two_answers=s.profiling_stage_two_answers,
        stage_two_days=s.profiling_stage_two_days,
        stage_three_answers=s.profiling_stage_three_answers,
        stage_three_days=s.profiling_stage_three_days,
    )


def _consented(hub: Hub, conn: Connection, customer: CustomerRow, channel: AskChannel) -> bool:
    """Has the customer agreed to be asked (the profiling purpose), on this channel if the
    purpose names channels?"""
    purpose_id = hub.settings.profiling_purpose
    purpose = purpose_store.get(conn, purpose_id)
    if purpose is None:
        return False
    current = consent_store.entries(conn, customer.id, purpose_id)
    named = [c for c in (channel.value, _PURPOSE_CHANNEL.get(channel)) if c in purpose.channels]
    own = current.get((purpose_id, named[0])) if named else None
    entry = in_force(own, current.get((purpose_id, ALL_CHANNELS)))
    return decide(purpose, entry, hub.now_micros(), restricted=customer.restricted).allowed


def _relationship(
    hub: Hub,
    conn: Connection,
    customer: CustomerRow,
    channel: AskChannel,
    known: tuple[Any, bool] | None = None,
) -> Relationship:
    """``known``: the asking row and the consent to be asked, when the caller read them in
    this transaction already."""
    rows = store.answer_facts(conn, customer.id)
    gates = gating(hub, conn)
    key = hub.vault.key(customer.id) if any(r.question_id in gates for r in rows) else None
    facts = {}
    for row in rows:
        values: frozenset[str] = frozenset()
        # Only an answer a prerequisite looks at is decrypted.
        if row.status == AnswerStatus.ANSWERED.value and row.question_id in gates:
            opened = hub.vault.unseal_json(customer.id, ANSWER, bytes(row.sealed), key)
            values = tokens(opened["value"])
        facts[row.question_id] = AnswerFact(
            AnswerStatus(row.status), row.answered_at, row.expires_at, values
        )
    asking, consented = known or (store.asking_of(conn, customer.id), None)
    last = None
    if asking is not None and asking.last_question is not None:
        last = LastAsk(asking.last_question, asking.last_asked_at, asking.last_visit)
    return Relationship(
        consented=_consented(hub, conn, customer, channel) if consented is None else consented,
        stopped=asking is not None and asking.stopped_at is not None,
        customer_since=customer.created_at,
        answers=facts,
        last_ask=last,
    )


def asked_json(question: Question, lang: str) -> dict[str, Any]:
    return {
        "id": question.id,
        "text": question.text_in(lang),
        "kind": question.kind.value,
        "options": [{"value": o.value, "label": o.label_in(lang)} for o in question.options],
        "topic": question.topic,
        "stage": int(question.stage),
        "reward_points": question.points,
        "max_length": question.max_length,
    }


def next_question(
    hub: Hub, caller: Caller, customer_id: str, channel: AskChannel, visit: str | None
) -> Question | None:
    """The one question that may be asked now, or None.

    The common answers (no consent, "stop asking me", within the cool-down, the visit's
    pending question) come from a read. A new question is chosen, once, in the write
    transaction that records it, with the customer locked: two requests at once cannot both
    start a question, and the answers are read and decrypted once."""
    caller.require_purpose(hub.settings.profiling_purpose)
    visit_key = hub.vault.blind("visit", visit) if visit else None
    policy = rules(hub)
    with hub.db.read() as conn:
        customer = customers.require_active(conn, customer_id)
        asking = store.asking_of(conn, customer_id)
        if asking is not None and asking.stopped_at is not None:
            return None
        if not _consented(hub, conn, customer, channel):
            return None
        if asking is not None and asking.last_question is not None:
            if visit_key is not None and asking.last_visit == visit_key:
                questions, by_id = bank(hub, conn)
                rel = _relationship(hub, conn, customer, channel, (asking, True))
                ask = choose(questions, rel, channel, visit_key, hub.now_micros(), policy, by_id)
                return ask.question if ask else None
            if hub.now_micros() < asking.last_asked_at + policy.cooldown_days * MICROS_PER_DAY:
                return None
    with hub.db.write() as conn:
        customer = customers.require_active(conn, customer_id, for_update=True)
        questions, by_id = bank(hub, conn)
        rel = _relationship(hub, conn, customer, channel)
        now = hub.now_micros()
        ask = choose(questions, rel, channel, visit_key, now, policy, by_id)
        if ask is not None and ask.new:
            insight_counts.record(hub, conn, customer_id, [("asked", ask.question.id, 1)])
            store.put_asking(
                conn,
                customer_id,
                {
                    "last_question": ask.question.id,
                    "last_asked_at": now,
                    "last_visit": visit_key,
                    "last_channel": channel.value,
                },
            )
    return ask.question if ask else None


def _question(hub: Hub, conn: Connection, question_id: str) -> Question:
    question = bank(hub, conn)[1].get(question_id)
    if question is None:
        raise InvalidInput(
            f"unknown question {question_id!r}",
            [{"loc": ["body", "question"], "msg": "unknown question"}],
        )
    return question


def _check_private(question: Question, channel: AskChannel, actor: Actor) -> None:
    if question.sensitive and (
        channel not in PRIVATE_CHANNELS or actor.type is not ActorType.CUSTOMER
    ):
        raise InvalidInput(
            f"{question.id!r} is sensitive: only the customer answers it, on a private channel "
            "(web, app, e-mail)",
            [{"loc": ["body", "channel"], "msg": "sensitive question"}],
        )


def answer_json(hub: Hub, customer_id: str, row: Any, key: Any = None) -> dict[str, Any]:
    opened = hub.vault.unseal_json(customer_id, ANSWER, bytes(row.sealed), key)
    return {
        "question": row.question_id,
        "status": row.status,
        "value": opened["value"],
        "channel": row.channel,
        "actor": {"type": row.actor_type, "id": opened["actor_id"]},
        "answered_at": rfc3339_micros(row.answered_at),
        "expires_at": rfc3339_micros(row.expires_at) if row.expires_at else None,
    }


def _put(
    hub: Hub,
    conn: Connection,
    customer_id: str,
    question: Question,
    status: AnswerStatus,
    value: Any,
    channel: AskChannel,
    actor: Actor,
) -> Any:
    now = hub.now_micros()
    expires = (
        now + question.valid_days * MICROS_PER_DAY
        if question.valid_days and status is AnswerStatus.ANSWERED
        else None
    )
    row = {
        "customer_id": customer_id,
        "question_id": question.id,
        "status": status.value,
        "sealed": hub.vault.seal_json(customer_id, ANSWER, {"value": value, "actor_id": actor.id}),
        "channel": channel.value,
        "actor_type": actor.type.value,
        "answered_at": now,
        "expires_at": expires,
    }
    before = store.answer_of(conn, customer_id, question.id)
    # The answer distribution follows the value: the old one out, the new one in.
    row["counted"] = insight_counts.retally(
        conn, question, insight_counts.counted_value(hub, customer_id, before), value
    )
    store.put_answer(conn, row, before is not None)
    # Announced without the value: an app that may read it asks GET …/answers.
    changes.announce(
        hub,
        conn,
        ChangeType.PREFERENCE_CHANGED,
        customer_id,
        hub.settings.profiling_purpose,
        {"question": question.id, "status": status.value, "channel": channel.value},
    )
    return store.answer_of(conn, customer_id, question.id)


def answer(
    hub: Hub,
    conn: Connection,
    caller: Caller,
    customer_id: str,
    question_id: str,
    raw: Any,
    channel: AskChannel,
    actor: Actor,
) -> dict[str, Any]:
    """Store (or change) an answer; the question's points are paid the first time only."""
    caller.require_purpose(hub.settings.profiling_purpose)
    customers.require_active(conn, customer_id, for_update=True)
    question = _question(hub, conn, question_id)
    if not question.active:
        raise InvalidInput(
            f"question {question_id!r} was retired",
            [{"loc": ["body", "question"], "msg": "retired"}],
        )
    value = question.accept(raw)
    _check_private(question, channel, actor)
    row = _put(hub, conn, customer_id, question, AnswerStatus.ANSWERED, value, channel, actor)
    earned = 0
    if question.points and not store.has_earned(conn, customer_id, question.id):
        store.add_entry(
            conn,
            {
                "id": new_id("pts"),
                "customer_id": customer_id,
                "points": question.points,
                "question_id": question.id,
                "reason": None,
                "at": row.answered_at,
            },
        )
        earned = question.points
        balance = store.credit(conn, customer_id, earned)
    else:
        balance = store.balance(conn, customer_id)
    paid = [("points", question.id, earned)] if earned else []
    insight_counts.record(hub, conn, customer_id, [("answered", question.id, 1), *paid])
    return {
        "answer": answer_json(hub, customer_id, row),
        "points_earned": earned,
        "balance": balance,
    }


def decline(
    hub: Hub,
    conn: Connection,
    caller: Caller,
    customer_id: str,
    question_id: str,
    channel: AskChannel,
    actor: Actor,
) -> dict[str, Any]:
    """ "Rather not say": not asked again for the decline period; replaces an earlier answer."""
    caller.require_purpose(hub.settings.profiling_purpose)
    customers.require_active(conn, customer_id, for_update=True)
    question = _question(hub, conn, question_id)
    row = _put(hub, conn, customer_id, question, AnswerStatus.DECLINED, None, channel, actor)
    insight_counts.record(hub, conn, customer_id, [("declined", question.id, 1)])
    return answer_json(hub, customer_id, row)


def forget(hub: Hub, conn: Connection, caller: Caller, customer_id: str, question_id: str) -> None:
    """The customer deletes what they told us: the value is erased, and the question counts
    as declined (so it is not asked again at once)."""
    caller.require_purpose(hub.settings.profiling_purpose)
    customers.require_active(conn, customer_id, for_update=True)
    row = store.answer_of(conn, customer_id, question_id)
    if row is None or row.status != AnswerStatus.ANSWERED.value:
        raise NotFound(f"customer {customer_id!r} has no answer to {question_id!r}")
    question = bank(hub, conn)[1][question_id]
    _put(
        hub,
        conn,
        customer_id,
        question,
        AnswerStatus.DECLINED,
        None,
        AskChannel(row.channel),
        Actor(type=ActorType.CUSTOMER),
    )


def answers(hub: Hub, caller: Caller, customer_id: str) -> list[dict[str, Any]]:
    caller.require_purpose(hub.settings.profiling_purpose)
    return answers_of(hub, customer_id)


def answers_of(hub: Hub, customer_id: str) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        customers.require_active(conn, customer_id)
        rows = store.answers_of(conn, customer_id)
    key = hub.vault.key(customer_id) if rows else None
    return [answer_json(hub, customer_id, row, key) for row in rows]


def set_asking(hub: Hub, conn: Connection, customer_id: str, asking: bool) -> dict[str, Any]:
    """ "Stop asking me" (or "you may ask again")."""
    customers.require_active(conn, customer_id, for_update=True)
    stopped = None if asking else hub.now_micros()
    store.put_asking(conn, customer_id, {"stopped_at": stopped})
    changes.announce(
        hub,
        conn,
        ChangeType.PREFERENCE_CHANGED,
        customer_id,
        hub.settings.profiling_purpose,
        {"asking": asking},
    )
    return asking_json(customer_id, stopped)


def asking_json(customer_id: str, stopped: int | None) -> dict[str, Any]:
    return {
        "customer": customer_id,
        "asking": stopped is None,
        "stopped_at": rfc3339_micros(stopped) if stopped else None,
    }


def asking(hub: Hub, customer_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        customers.require_active(conn, customer_id)
        row = store.asking_of(conn, customer_id)
    return asking_json(customer_id, row.stopped_at if row else None)


def asking_export(hub: Hub, customer_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        row = store.asking_of(conn, customer_id)
    out = asking_json(customer_id, row.stopped_at if row else None)
    out["last_question"] = row.last_question if row else None
    out["last_asked_at"] = rfc3339_micros(row.last_asked_at) if row and row.last_asked_at else None
    out["last_channel"] = row.last_channel if row else None
    return out


# -- points


def entry_json(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": "earned" if row["points"] > 0 else "redeemed",
        "points": row["points"],
        "question": row["question_id"],
        "reason": row["reason"],
        "at": rfc3339_micros(row["at"]),
    }


def points(
    hub: Hub, customer_id: str, after: str | None = None, limit: int | None = 100
) -> dict[str, Any]:
    if limit is not None:
        check_limit(limit)
    cursor = decode_cursor(after)
    with hub.db.read() as conn:
        customers.require_active(conn, customer_id)
        balance = store.balance(conn, customer_id)
        rows = store.entries_of(
            conn,
            customer_id,
            str(cursor) if cursor is not None else None,
            limit + 1 if limit else None,
        )
    more = limit is not None and len(rows) > limit
    rows = rows[:limit] if limit else rows
    return {
        "balance": balance,
        "entries": [entry_json(r._mapping) for r in rows],
        "next": encode_cursor(rows[-1].id) if more else None,
    }


def redeem(
    hub: Hub, conn: Connection, customer_id: str, amount: int, reason: str
) -> dict[str, Any]:
    customers.require_active(conn, customer_id, for_update=True)
    if not store.debit(conn, customer_id, amount):
        have = store.balance(conn, customer_id)
        raise InsufficientPoints(
            f"the customer has {have} points; redeeming {amount} needs {amount - have} more",
            [{"loc": ["body", "points"], "msg": f"balance is {have}"}],
        )
    row = {
        "id": new_id("pts"),
        "customer_id": customer_id,
        "points": -amount,
        "question_id": None,
        "reason": reason,
        "at": hub.now_micros(),
    }
    store.add_entry(conn, row)
    return {
        "entry": entry_json(row),
        "balance": store.balance(conn, customer_id),
    }
