"""Daily counts of distinct customers per metric, answer tallies and their snapshots, and the
relationship stages, as stored."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from consentry.store.insights import dialect_insert
from consentry.store.tables import answers, customers
from consentry.store.tables import insight_answer_levels as answer_levels
from consentry.store.tables import insight_answer_tallies as tallies
from consentry.store.tables import insight_daily as daily
from consentry.store.tables import insight_daily_members as members
from consentry.store.tables import insight_stage_levels as stage_levels

CELL = ("day", "metric", "key")


@functools.cache
def _statements(dialect: str) -> tuple[Any, Any]:
    """Built once per engine: a decision counts in its own transaction, and building these
    (``excluded`` especially) cost more than running them."""
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    add_members = (
        insert_for(members).on_conflict_do_nothing().returning(*(members.c[n] for n in CELL))
    )
    upsert = insert_for(daily)
    add_to_cells = upsert.on_conflict_do_update(
        index_elements=list(CELL),
        set_={
            "customers": daily.c.customers + upsert.excluded.customers,
            "total": daily.c.total + upsert.excluded.total,
        },
    )
    return add_members, add_to_cells


def count(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """``rows``: day, metric, key, member, amount. A member new to its cell adds a customer;
    every row adds its amount to the cell's total."""
    if not rows:
        return
    add_members, add_to_cells = _statements(conn.dialect.name)
    # In key order, members and cells alike: two decisions that share cells lock them in the
    # same order, so neither waits for the other in a cycle (PostgreSQL's deadlocks).
    names = (*CELL, "member")
    member_rows = sorted(
        ({name: r[name] for name in names} for r in rows),
        key=lambda r: tuple(r[name] for name in names),
    )
    new = Counter(tuple(r) for r in conn.execute(add_members, member_rows))
    totals: Counter[tuple[Any, ...]] = Counter()
    for r in rows:
        totals[tuple(r[name] for name in CELL)] += r["amount"]
    cells = [
        {**dict(zip(CELL, cell, strict=True)), "customers": new.get(cell, 0), "total": total}
        for cell, total in sorted(totals.items())
    ]
    conn.execute(add_to_cells, cells)


def forget_member(conn: Connection, member: str) -> None:
    conn.execute(delete(members).where(members.c.member == member))


def forget_members_before(conn: Connection, day: date) -> int:
    """Members are only needed while their day can still be counted."""
    return int(conn.execute(delete(members).where(members.c.day < day)).rowcount)


def daily_between(conn: Connection, metrics: Sequence[str], first: date, last: date) -> list[Any]:
    return list(
        conn.execute(
            select(daily)
            .where(daily.c.metric.in_(metrics), daily.c.day >= first, daily.c.day <= last)
            .order_by(daily.c.day, daily.c.metric, daily.c.key)
        )
    )


def shown_totals(
    conn: Connection, metrics: Sequence[str], first: date, last: date, k: int
) -> list[Any]:
    """Per metric and key over the range: the shown cells' customers and totals added up, and
    how many cells were left out (under ``k``) — ``domain.insights.range_totals`` done by the
    database, so a year of cells is not carried to the page (see that function for why the
    hidden cells are not added in)."""
    shown = daily.c.customers >= k
    return list(
        conn.execute(
            select(
                daily.c.metric,
                daily.c.key,
                func.sum(case((shown, daily.c.customers), else_=0)).label("customers"),
                func.sum(case((shown, daily.c.total), else_=0)).label("total"),
                func.sum(case((shown, 0), else_=1)).label("left_out"),
            )
            .where(daily.c.metric.in_(metrics), daily.c.day >= first, daily.c.day <= last)
            .group_by(daily.c.metric, daily.c.key)
        )
    )


def shown_per_day(
    conn: Connection, metrics: Sequence[str], first: date, last: date, k: int
) -> list[Any]:
    """Per day and metric: the shown cells' customers added up, and the cells left out."""
    shown = daily.c.customers >= k
    return list(
        conn.execute(
            select(
                daily.c.day,
                daily.c.metric,
                func.sum(case((shown, daily.c.customers), else_=0)).label("customers"),
                func.sum(case((shown, 0), else_=1)).label("left_out"),
            )
            .where(daily.c.metric.in_(metrics), daily.c.day >= first, daily.c.day <= last)
            .group_by(daily.c.day, daily.c.metric)
            .order_by(daily.c.day)
        )
    )


def tally(conn: Connection, question_id: str, deltas: dict[str, int]) -> None:
    rows = [
        {"question_id": question_id, "value": value, "customers": n}
        for value, n in sorted(deltas.items())
        if n
    ]
    if not rows:
        return
    upsert = dialect_insert(conn, tallies)
    conn.execute(
        upsert.on_conflict_do_update(
            index_elements=["question_id", "value"],
            set_={"customers": tallies.c.customers + upsert.excluded.customers},
        ),
        rows,
    )


def current_tallies(conn: Connection) -> list[Any]:
    return list(conn.execute(select(tallies).order_by(tallies.c.question_id, tallies.c.value)))


def snapshot_answers(conn: Connection, day: date) -> int:
    """Today's answer distribution, replacing an earlier snapshot of the day."""
    conn.execute(delete(answer_levels).where(answer_levels.c.day == day))
    rows = [
        {"day": day, "question_id": r.question_id, "value": r.value, "customers": r.customers}
        for r in current_tallies(conn)
        if r.customers > 0
    ]
    if rows:
        conn.execute(insert(answer_levels), rows)
    return len(rows)


def answer_levels_between(
    conn: Connection, first: date, last: date, question_id: str | None
) -> list[Any]:
    query = (
        select(answer_levels)
        .where(answer_levels.c.day >= first, answer_levels.c.day <= last)
        .order_by(answer_levels.c.day, answer_levels.c.question_id, answer_levels.c.value)
    )
    if question_id is not None:
        query = query.where(answer_levels.c.question_id == question_id)
    return list(conn.execute(query))


def snapshot_stages(
    conn: Connection, day: date, now: int, thresholds: Sequence[tuple[int, int, int]]
) -> int:
    """Customers per relationship stage now. ``thresholds``: (stage, answers, since), the
    highest stage first: a customer is at the first stage whose answer count and customer-since
    time they reach (else stage 1). One pass over the answers, grouped in the database."""
    shared = (
        select(answers.c.customer_id, func.count().label("n"))
        .where(answers.c.status == "answered")
        .group_by(answers.c.customer_id)
        .subquery()
    )
    n = func.coalesce(shared.c.n, 0)
    stage = case(
        *(
            ((n >= needed) & (customers.c.created_at <= since), level)
            for level, needed, since in thresholds
        ),
        else_=1,
    ).label("stage")
    per_customer = (
        select(stage)
        .select_from(customers.outerjoin(shared, shared.c.customer_id == customers.c.id))
        .where(customers.c.status == "active")
        .subquery()
    )
    counted = conn.execute(
        select(per_customer.c.stage, func.count()).group_by(per_customer.c.stage)
    ).all()
    conn.execute(delete(stage_levels).where(stage_levels.c.day == day))
    rows = [{"day": day, "stage": int(s), "customers": int(c)} for s, c in counted]
    if rows:
        conn.execute(insert(stage_levels), rows)
    return len(rows)


def stage_levels_between(conn: Connection, first: date, last: date) -> list[Any]:
    return list(
        conn.execute(
            select(stage_levels)
            .where(stage_levels.c.day >= first, stage_levels.c.day <= last)
            .order_by(stage_levels.c.day, stage_levels.c.stage)
        )
    )
