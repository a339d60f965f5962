"""Questions in the pages: a form's fields turned into an answer, an answer shown in words."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from consentry.domain.questions import Question, QuestionKind


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
