"""Progressive profiling as stored: the question bank, answers, asking state, points.

Writes about one customer run after the customer's row is locked (``FOR UPDATE`` on PostgreSQL,
the single writer on SQLite), so reading an answer or a balance and then changing it is safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, func, insert, or_, select, update

from consentry.store.tables import answers, points_accounts, points_entries, profiling, questions

# -- the question bank


def bank_version(conn: Connection) -> tuple[int, int]:
    """Changes whenever a question is added, changed or retired (for the bank cache)."""
    count, latest = conn.execute(
        select(func.count(), func.coalesce(func.max(questions.c.updated_at), 0))
    ).one()
    return int(count), int(latest)


def all_questions(conn: Connection) -> list[Any]:
    return list(conn.execute(select(questions).order_by(questions.c.position, questions.c.id)))


def question_page(conn: Connection, after: str | None, limit: int) -> list[Any]:
    query = select(questions).order_by(questions.c.id).limit(limit)
    if after is not None:
        query = query.where(questions.c.id > after)
    return list(conn.execute(query))


def get_question(conn: Connection, question_id: str) -> Any | None:
    return conn.execute(select(questions).where(questions.c.id == question_id)).first()


def next_position(conn: Connection) -> int:
    return (
        int(conn.execute(select(func.coalesce(func.max(questions.c.position), -1))).scalar_one())
        + 1
    )


def insert_question(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(questions).values(**row))


def update_question(conn: Connection, question_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(questions).where(questions.c.id == question_id).values(**values))


# -- answers

# Built once: the asking policy runs these on every next-question.
_FACTS = select(
    answers.c.question_id,
    answers.c.status,
    answers.c.answered_at,
    answers.c.expires_at,
    answers.c.sealed,
).where(answers.c.customer_id == bindparam("b_customer"))
_ASKING = select(profiling).where(profiling.c.customer_id == bindparam("b_customer"))


def answer_facts(conn: Connection, customer_id: str) -> list[Any]:
    """What the asking policy needs of each answer (the sealed value, for prerequisites)."""
    return list(conn.execute(_FACTS, {"b_customer": customer_id}))


def answers_of(conn: Connection, customer_id: str) -> list[Any]:
    return list(
        conn.execute(
            select(answers)
            .where(answers.c.customer_id == customer_id)
            .order_by(answers.c.answered_at.desc(), answers.c.question_id)
        )
    )


def answer_of(conn: Connection, customer_id: str, question_id: str) -> Any | None:
    return conn.execute(
        select(answers).where(
            answers.c.customer_id == customer_id, answers.c.question_id == question_id
        )
    ).first()


def put_answer(conn: Connection, row: dict[str, Any], exists: bool) -> None:
    if exists:
        keys = (
            answers.c.customer_id == row["customer_id"],
            answers.c.question_id == row["question_id"],
        )
        conn.execute(update(answers).where(*keys).values(**row))
    else:
        conn.execute(insert(answers).values(**row))


def expired_answers(conn: Connection, before: int, limit: int) -> list[Any]:
    return list(conn.execute(select(answers).where(answers.c.expires_at < before).limit(limit)))


def delete_answers(conn: Connection, keys: list[tuple[str, str]]) -> int:
    gone = 0
    for customer_id, question_id in keys:
        gone += conn.execute(
            delete(answers).where(
                answers.c.customer_id == customer_id, answers.c.question_id == question_id
            )
        ).rowcount
    return gone


def uncounted_customers(
    conn: Connection, question_ids: Sequence[str], after: str, limit: int
) -> list[str]:
    """Customers with an answer to one of these questions not in the answer distribution."""
    return list(
        conn.execute(
            select(answers.c.customer_id)
            .where(
                answers.c.customer_id > after,
                answers.c.status == "answered",
                answers.c.counted.is_(False),
                answers.c.question_id.in_(question_ids),
            )
            .group_by(answers.c.customer_id)
            .order_by(answers.c.customer_id)
            .limit(limit)
        ).scalars()
    )


def mark_counted(conn: Connection, customer_id: str, question_id: str) -> None:
    conn.execute(
        update(answers)
        .where(answers.c.customer_id == customer_id, answers.c.question_id == question_id)
        .values(counted=True)
    )


def uncount(conn: Connection, customer_id: str) -> None:
    conn.execute(update(answers).where(answers.c.customer_id == customer_id).values(counted=False))


# -- asking state


def asking_of(conn: Connection, customer_id: str) -> Any | None:
    return conn.execute(_ASKING, {"b_customer": customer_id}).first()


def put_asking(conn: Connection, customer_id: str, values: dict[str, Any]) -> None:
    changed = conn.execute(
        update(profiling).where(profiling.c.customer_id == customer_id).values(**values)
    ).rowcount
    if not changed:
        conn.execute(insert(profiling).values(customer_id=customer_id, **values))


# -- loyalty points


def answered_count(conn: Connection, customer_id: str, now: int) -> int:
    """How many questions the customer answered (not declined, not expired)."""
    found = conn.execute(
        select(func.count())
        .select_from(answers)
        .where(
            answers.c.customer_id == customer_id,
            answers.c.status == "answered",
            or_(answers.c.expires_at.is_(None), answers.c.expires_at > now),
        )
    ).scalar()
    return int(found or 0)


def balance(conn: Connection, customer_id: str) -> int:
    found = conn.execute(
        select(points_accounts.c.balance).where(points_accounts.c.customer_id == customer_id)
    ).scalar()
    return int(found or 0)


def has_earned(conn: Connection, customer_id: str, question_id: str) -> bool:
    return (
        conn.execute(
            select(points_entries.c.id).where(
                points_entries.c.customer_id == customer_id,
                points_entries.c.question_id == question_id,
            )
        ).first()
        is not None
    )


def add_entry(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(points_entries).values(**row))


def credit(conn: Connection, customer_id: str, points: int) -> int:
    """Add to the balance (creating the account); the new balance."""
    changed = conn.execute(
        update(points_accounts)
        .where(points_accounts.c.customer_id == customer_id)
        .values(balance=points_accounts.c.balance + points)
    ).rowcount
    if not changed:
        conn.execute(insert(points_accounts).values(customer_id=customer_id, balance=points))
    return balance(conn, customer_id)


def debit(conn: Connection, customer_id: str, points: int) -> bool:
    """Spend ``points`` if the balance holds them. The condition sits in the UPDATE itself, so
    it holds even for two spenders at once (PostgreSQL re-checks it on the locked row)."""
    changed = conn.execute(
        update(points_accounts)
        .where(points_accounts.c.customer_id == customer_id, points_accounts.c.balance >= points)
        .values(balance=points_accounts.c.balance - points)
    ).rowcount
    return bool(changed == 1)


def entries_of(
    conn: Connection, customer_id: str, after: str | None, limit: int | None
) -> list[Any]:
    """Newest first; ``after``: the id of the last entry of the previous page."""
    query = (
        select(points_entries)
        .where(points_entries.c.customer_id == customer_id)
        .order_by(points_entries.c.at.desc(), points_entries.c.id.desc())
    )
    if after is not None:
        anchor = conn.execute(
            select(points_entries.c.at).where(
                points_entries.c.id == after, points_entries.c.customer_id == customer_id
            )
        ).scalar()
        if anchor is None:
            return []
        query = query.where(
            (points_entries.c.at < anchor)
            | ((points_entries.c.at == anchor) & (points_entries.c.id < after))
        )
    return list(conn.execute(query.limit(limit) if limit else query))
