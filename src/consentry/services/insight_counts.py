"""Insights counted where they happen, in the transaction that makes them happen: questions
asked, answered and declined and the points paid; decisions, offers chosen, dismissed and
suppressed; the answer distribution of choice questions. And the daily snapshots of the
answer distribution and the relationship stages.

Counts are of distinct customers per day (a member row per customer, a blind index, kept two
days and deleted on erasure); ``total`` counts the events. Nothing here is ever shown about
fewer than ``insights_k`` customers (domain/insights.py decides what is shown)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection

from consentry.domain.consent import MICROS_PER_DAY
from consentry.domain.insights import (
    OFFER_METRICS,
    PROFILING_METRICS,
    TALLIED_KINDS,
    Count,
    Share,
    Totals,
    check_range,
    shown_counts,
    shown_shares,
)
from consentry.domain.profiling import ProfilingRules
from consentry.domain.questions import ANSWER, Question, tokens
from consentry.services.hub import Hub
from consentry.services.insights import member_of, today
from consentry.services.questions import bank
from consentry.store import customers as customer_store
from consentry.store import insight_counts as store
from consentry.store import profiling as profiling_store


def record(
    hub: Hub, conn: Connection, customer_id: str, events: Iterable[tuple[str, str, int]]
) -> None:
    """``events``: (metric, key, amount) that happened now to the customer."""
    day = today(hub)
    member = member_of(hub, customer_id)
    rows = [
        {"day": day, "metric": metric, "key": key[:64], "member": member, "amount": amount}
        for metric, key, amount in events
    ]
    store.count(conn, rows)


def tallied(question: Question) -> bool:
    """Distributions of choice questions only, and never of a sensitive one: even a count of
    people who said they are expecting is not for a marketing chart."""
    return question.kind in TALLIED_KINDS and not question.sensitive


def retally(conn: Connection, question: Question, before: Any, after: Any) -> bool:
    """Move the customer from the values of ``before`` to those of ``after`` (either None:
    no value counted). True when ``after`` is now counted."""
    deltas: Counter[str] = Counter()
    if before is not None:
        deltas.subtract(tokens(before))
    if after is not None and tallied(question):
        deltas.update(tokens(after))
    store.tally(conn, question.id, {value[:200]: n for value, n in deltas.items()})
    return after is not None and tallied(question)


def counted_value(hub: Hub, customer_id: str, row: Any, key: Any = None) -> Any:
    """The value of a stored answer that is in the answer distribution, else None."""
    if row is None or not row.counted:
        return None
    return hub.vault.unseal_json(customer_id, ANSWER, bytes(row.sealed), key)["value"]


def release_answers(hub: Hub, conn: Connection, customer_id: str) -> None:
    """Take the customer's answers out of the answer distribution (before an erasure shreds
    the key that reads them; a second run finds nothing counted)."""
    rows = [r for r in profiling_store.answers_of(conn, customer_id) if r.counted]
    if not rows:
        return
    key = hub.vault.key(customer_id)
    by_id = bank(hub, conn)[1]
    for row in rows:
        question = by_id.get(row.question_id)
        if question is not None:
            retally(conn, question, counted_value(hub, customer_id, row, key), None)
    profiling_store.uncount(conn, customer_id)


def forget_expired_answers(hub: Hub, conn: Connection, now: int, limit: int) -> int:
    """Intentions that stopped being true: out of the distribution, then deleted."""
    expired = profiling_store.expired_answers(conn, now, limit)
    by_id = bank(hub, conn)[1]
    for row in expired:
        question = by_id.get(row.question_id)
        if row.counted and question is not None:
            before = counted_value(hub, row.customer_id, row)
            retally(conn, question, before, None)
    return profiling_store.delete_answers(conn, [(r.customer_id, r.question_id) for r in expired])


def backfill_answers(hub: Hub, batch: int = 200) -> int:
    """Take into the answer distribution the answers stored before it existed (or by any path
    that left them out); how many. Each customer is locked while their answers are read, as an
    answer write locks them, so a live change is neither missed nor counted twice; running it
    again finds nothing."""
    with hub.db.read() as conn:
        counted = [q.id for q in bank(hub, conn)[0] if tallied(q)]
    done = 0
    after = ""
    while counted:
        with hub.db.read() as conn:
            ids = profiling_store.uncounted_customers(conn, counted, after, batch)
        if not ids:
            return done
        with hub.db.write() as conn:
            by_id = bank(hub, conn)[1]
            for customer_id in ids:
                customer = customer_store.get(conn, customer_id, for_update=True)
                if customer is None or customer.status != "active":
                    continue
                key = hub.vault.key(customer_id)
                for row in profiling_store.answers_of(conn, customer_id):
                    question = by_id.get(row.question_id)
                    if row.counted or row.status != "answered" or question is None:
                        continue
                    if not tallied(question):
                        continue
                    value = hub.vault.unseal_json(customer_id, ANSWER, bytes(row.sealed), key)
                    retally(conn, question, None, value["value"])
                    profiling_store.mark_counted(conn, customer_id, question.id)
                    done += 1
        after = ids[-1]
    return done


def forget_member(hub: Hub, conn: Connection, customer_id: str) -> None:
    """On erasure: the customer's member rows go (the counts stay: they are of no one)."""
    store.forget_member(conn, member_of(hub, customer_id))


def snapshot(hub: Hub, rules: ProfilingRules) -> tuple[int, int]:
    """Today's answer distribution and relationship stages (rows written)."""
    now = hub.now_micros()
    thresholds = [
        (3, rules.stage_three_answers, now - rules.stage_three_days * MICROS_PER_DAY),
        (2, rules.stage_two_answers, now - rules.stage_two_days * MICROS_PER_DAY),
    ]
    day = today(hub)
    with hub.db.write() as conn:
        answers = store.snapshot_answers(conn, day)
        stages = store.snapshot_stages(conn, day, now, thresholds)
        store.forget_members_before(conn, day - timedelta(days=1))
    return answers, stages


def profiling_counts(hub: Hub, first: date, last: date) -> list[Count]:
    """Questions asked, answered and declined, and points paid, per day and question."""
    return _counts(hub, PROFILING_METRICS, first, last)


def offer_counts(hub: Hub, first: date, last: date) -> list[Count]:
    """Decisions and offers considered per channel, offers chosen and dismissed per offer,
    offers suppressed and decisions left empty per reason, per day."""
    return _counts(hub, OFFER_METRICS, first, last)


def _counts(hub: Hub, metrics: tuple[str, ...], first: date, last: date) -> list[Count]:
    check_range(first, last)
    with hub.db.read() as conn:
        rows = store.daily_between(conn, metrics, first, last)
    found = [(r.day, r.metric, r.key, r.customers, r.total) for r in rows]
    return shown_counts(found, hub.settings.insights_k)


def totals(hub: Hub, metrics: tuple[str, ...], first: date, last: date) -> Totals:
    """Per (metric, key) over the range: shown customers, shown total, cells left out."""
    check_range(first, last)
    k = hub.settings.insights_k
    with hub.db.read() as conn:
        rows = store.shown_totals(conn, metrics, first, last, k)
    return {(r.metric, r.key): (int(r.customers), int(r.total), int(r.left_out)) for r in rows}


def per_day(
    hub: Hub, metrics: tuple[str, ...], first: date, last: date
) -> list[tuple[date, str, int, int]]:
    """Per day and metric: shown customers added up, cells left out."""
    check_range(first, last)
    k = hub.settings.insights_k
    with hub.db.read() as conn:
        rows = store.shown_per_day(conn, metrics, first, last, k)
    return [(r.day, r.metric, int(r.customers), int(r.left_out)) for r in rows]


def answer_shares(hub: Hub, first: date, last: date, question_id: str | None) -> list[Share]:
    """Customers holding each value of each choice question, from the daily snapshots."""
    check_range(first, last)
    with hub.db.read() as conn:
        rows = store.answer_levels_between(conn, first, last, question_id)
    found = [(r.day, r.question_id, r.value, r.customers) for r in rows]
    return shown_shares(found, hub.settings.insights_k, complete=False)


def stage_shares(hub: Hub, first: date, last: date) -> list[Share]:
    """Customers at each relationship stage, from the daily snapshots."""
    check_range(first, last)
    with hub.db.read() as conn:
        rows = store.stage_levels_between(conn, first, last)
    found = [(r.day, "stage", str(r.stage), r.customers) for r in rows]
    return shown_shares(found, hub.settings.insights_k, complete=True)
