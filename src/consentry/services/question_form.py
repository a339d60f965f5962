"""Questions in the pages: a form's fields turned into an answer, an answer shown in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consentry.domain.errors import InvalidInput
from consentry.domain.questions import Question, QuestionKind
from consentry.services import questions
from consentry.services.hub import Hub


def answer_from_form(hub: Hub, question_id: str, values: list[str]) -> Any:
    """The form's fields for ``question_id`` as the API would take them."""
    question = questions.find(hub, question_id)
    if question is None:
        raise InvalidInput(f"unknown question {question_id!r}")
    return value_from_form(question, values)


def value_from_form(question: Question, values: list[str]) -> Any:
    """What the form sent, as the API would take it (``Question.accept`` judges it)."""
    if question.kind is QuestionKind.MULTIPLE_CHOICE:
        return values
    value = values[0] if values else ""
    if question.kind is QuestionKind.YES_NO:
        return {"yes": True, "no": False}.get(value, value)
    return value


def shown(question: Question | None, value: Any, lang: str, _: Callable[[str], str]) -> str:
    """An answer in words: option labels, Yes/No, the text itself."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    labels = {o.value: o.label_in(lang) for o in question.options} if question else {}
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))
