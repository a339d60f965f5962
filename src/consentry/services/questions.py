"""The question bank: managed through the API and loaded from YAML/JSON files, read by the
asking policy through a per-process cache that notices every change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from consentry.domain.errors import Conflict, InvalidInput, NotFound
from consentry.domain.questions import (
    DEFAULT_LANGUAGE,
    AskChannel,
    Option,
    Prerequisite,
    Question,
    QuestionKind,
    Stage,
)
from consentry.schemas.profiling import QuestionIn, Text
from consentry.services.hub import Hub
from consentry.store import profiling as store
from consentry.store.pagination import check_limit, decode_cursor, encode_cursor

# -- definitions as stored (QuestionIn with every text as {language: text})


def _texts(text: Text) -> dict[str, str]:
    return {DEFAULT_LANGUAGE: text} if isinstance(text, str) else dict(text)


def definition(body: QuestionIn) -> dict[str, Any]:
    out = body.model_dump(mode="json")
    out["text"] = _texts(body.text)
    for option in out["options"]:
        option["label"] = _texts(option["label"])
    return out


def question_of(row: Any) -> Question:
    d = row.definition
    return Question(
        id=row.id,
        text=d["text"],
        kind=QuestionKind(d["kind"]),
        topic=d["topic"],
        stage=Stage(d["stage"]),
        points=d["points"],
        channels=frozenset(AskChannel(c) for c in d["channels"]),
        options=tuple(Option(o["value"], o["label"]) for o in d["options"]),
        requires=tuple(
            Prerequisite(p["question"], frozenset(p["answered_with"])) for p in d["requires"]
        ),
        sensitive=d["sensitive"],
        valid_days=d["valid_days"],
        max_length=d["max_length"],
        active=bool(row.active),
        position=row.position,
    )


def question_json(row: Any) -> dict[str, Any]:
    return {**row.definition, "id": row.id, "active": bool(row.active)}


# -- the cache


def bank(hub: Hub, conn: Connection) -> tuple[list[Question], dict[str, Question]]:
    """Every question, in bank order, and by id; read again only when the bank changed."""
    version = store.bank_version(conn)
    cached = hub.question_bank
    if cached is None or cached[0] != version:
        questions = [question_of(row) for row in store.all_questions(conn)]
        gating = frozenset(p.question for q in questions for p in q.requires if p.answered_with)
        cached = (version, questions, {q.id: q for q in questions}, gating)
        hub.question_bank = cached
    return cached[1], cached[2]


def gating(hub: Hub, conn: Connection) -> frozenset[str]:
    """The questions whose answer values a prerequisite looks at (the others need not be
    decrypted to decide what to ask)."""
    bank(hub, conn)
    assert hub.question_bank is not None
    return hub.question_bank[3]


def find(hub: Hub, question_id: str) -> Question | None:
    with hub.db.read() as conn:
        return bank(hub, conn)[1].get(question_id)


def bank_now(hub: Hub) -> list[Question]:
    with hub.db.read() as conn:
        return bank(hub, conn)[0]


# -- checks across questions


def _check_references(
    bodies: Sequence[QuestionIn], existing: dict[str, Question]
) -> list[tuple[int, str]]:
    """Prerequisites name known questions and their real answers, and form no cycle.
    (index in ``bodies``, what is wrong) for each problem."""
    incoming = {b.id: b for b in bodies}
    problems: list[tuple[int, str]] = []

    def answers_of(question_id: str) -> set[str] | None:
        if question_id in incoming:
            body = incoming[question_id]
            kind, values = body.kind, {o.value for o in body.options}
        elif question_id in existing:
            kind, values = (
                existing[question_id].kind,
                {o.value for o in existing[question_id].options},
            )
        else:
            return None
        if kind is QuestionKind.YES_NO:
            return {"yes", "no"}
        return values

    for index, body in enumerate(bodies):
        for pre in body.requires:
            known = answers_of(pre.question)
            if known is None:
                problems.append((index, f"requires unknown question {pre.question!r}"))
                continue
            wrong = [v for v in pre.answered_with if v not in known]
            if wrong:
                problems.append(
                    (
                        index,
                        f"requires {pre.question!r} answered with {wrong[0]!r}, which is "
                        f"not one of its answers ({', '.join(sorted(known)) or 'free answers'})",
                    )
                )
    graph = {q.id: [p.question for p in q.requires] for q in existing.values()}
    graph.update({b.id: [p.question for p in b.requires] for b in bodies})
    for index, body in enumerate(bodies):
        if _reaches(graph, body.id):
            problems.append((index, f"prerequisites of {body.id!r} lead back to it"))
    return problems


def _reaches(graph: dict[str, list[str]], start: str) -> bool:
    seen: set[str] = set()
    todo = list(graph.get(start, []))
    while todo:
        current = todo.pop()
        if current == start:
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(graph.get(current, []))
    return False


def _raise_first(problems: list[tuple[int, str]]) -> None:
    if problems:
        raise InvalidInput(
            problems[0][1],
            [{"loc": ["body", "requires"], "msg": message} for _, message in problems],
        )


# -- use cases


def create(hub: Hub, conn: Connection, body: QuestionIn) -> dict[str, Any]:
    if store.get_question(conn, body.id) is not None:
        raise Conflict(f"question {body.id!r} exists; PUT /v1/questions/{body.id} changes it")
    _raise_first(_check_references([body], bank(hub, conn)[1]))
    store.insert_question(
        conn,
        {
            "id": body.id,
            "position": store.next_position(conn),
            "stage": body.stage,
            "active": True,
            "definition": definition(body),
            "updated_at": hub.now_micros(),
        },
    )
    return get_in(conn, body.id)


def replace(hub: Hub, conn: Connection, question_id: str, body: QuestionIn) -> dict[str, Any]:
    if body.id != question_id:
        raise InvalidInput(
            f"the body's id {body.id!r} is not the path's {question_id!r}",
            [{"loc": ["body", "id"], "msg": "must equal the id in the path"}],
        )
    if store.get_question(conn, question_id) is None:
        raise NotFound(f"no question {question_id!r}")
    _raise_first(_check_references([body], bank(hub, conn)[1]))
    store.update_question(
        conn,
        question_id,
        {
            "stage": body.stage,
            "active": True,
            "definition": definition(body),
            "updated_at": hub.now_micros(),
        },
    )
    return get_in(conn, question_id)


def retire(hub: Hub, conn: Connection, question_id: str) -> dict[str, Any]:
    """Never asked again; the answers already given stay the customers'."""
    if store.get_question(conn, question_id) is None:
        raise NotFound(f"no question {question_id!r}")
    store.update_question(conn, question_id, {"active": False, "updated_at": hub.now_micros()})
    return get_in(conn, question_id)


def get_in(conn: Connection, question_id: str) -> dict[str, Any]:
    row = store.get_question(conn, question_id)
    if row is None:
        raise NotFound(f"no question {question_id!r}")
    return question_json(row)


def get(hub: Hub, question_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        return get_in(conn, question_id)


def list_page(hub: Hub, after: str | None, limit: int) -> dict[str, Any]:
    check_limit(limit)
    cursor = decode_cursor(after)
    with hub.db.read() as conn:
        rows = store.question_page(conn, str(cursor) if cursor is not None else None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "questions": [question_json(r) for r in rows],
        "next": encode_cursor(rows[-1].id) if more else None,
    }


def load(hub: Hub, bodies: Sequence[QuestionIn]) -> tuple[dict[str, int], list[tuple[int, str]]]:
    """Create or update every question of a file in one transaction (all or nothing).
    Counts, or the problems found across questions (nothing written then)."""
    ids = [b.id for b in bodies]
    twice = {i for i in ids if ids.count(i) > 1}
    problems = [
        (n, f"question id {b.id!r} appears twice") for n, b in enumerate(bodies) if b.id in twice
    ]
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    with hub.db.write() as conn:
        problems += _check_references(bodies, bank(hub, conn)[1])
        if problems:
            return counts, problems
        now = hub.now_micros()
        position = store.next_position(conn)
        for body in bodies:
            row = store.get_question(conn, body.id)
            wanted = definition(body)
            if row is None:
                store.insert_question(
                    conn,
                    {
                        "id": body.id,
                        "position": position,
                        "stage": body.stage,
                        "active": True,
                        "definition": wanted,
                        "updated_at": now,
                    },
                )
                position += 1
                counts["created"] += 1
            elif row.definition != wanted or not row.active:
                store.update_question(
                    conn,
                    body.id,
                    {"stage": body.stage, "active": True, "definition": wanted, "updated_at": now},
                )
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
    return counts, []
