"""Questions and the answers they take: zero-party data, asked one question at a time.

A question has a kind that fixes what a valid answer is, a stage (icebreaker → getting to know →
trusted), the channels where it may be asked, prerequisites, and for intentions ("planning a
beach holiday") how many days an answer stays true. ``Question.accept`` turns raw input into the
normalised value that is stored, or says what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum, StrEnum
from typing import Any

from consentry.domain.errors import InvalidInput


class QuestionKind(StrEnum):
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    YES_NO = "yes_no"
    FREE_TEXT = "free_text"
    DATE = "date"
    MONTH = "month"


class AskChannel(StrEnum):
    """Where a question is put to the customer."""

    WEB = "web"
    APP = "app"
    STORE = "store"
    EMAIL = "email"
    CHECKOUT = "checkout"


# Where nobody else hears the question or reads the answer over the customer's shoulder:
# only here may a sensitive question be asked (never at the till, never in front of a clerk).
PRIVATE_CHANNELS = frozenset({AskChannel.WEB, AskChannel.APP, AskChannel.EMAIL})


class Stage(IntEnum):
    ICEBREAKER = 1
    GETTING_TO_KNOW = 2
    TRUSTED = 3


# The vault's field name for an answer (its value and the actor's id).
ANSWER = "answer"
DEFAULT_LANGUAGE = "en"
FREE_TEXT_LIMIT = 500
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Option:
    value: str
    label: dict[str, str]

    def label_in(self, lang: str) -> str:
        return _in_language(self.label, lang)


@dataclass(frozen=True)
class Prerequisite:
    """Ask only after ``question`` was answered — with one of ``answered_with`` if given
    (option values; ``yes``/``no`` for yes/no questions)."""

    question: str
    answered_with: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Question:
    id: str
    text: dict[str, str]
    kind: QuestionKind
    topic: str
    stage: Stage
    points: int
    channels: frozenset[AskChannel]
    options: tuple[Option, ...] = ()
    requires: tuple[Prerequisite, ...] = ()
    sensitive: bool = False
    valid_days: int | None = None
    max_length: int | None = None
    active: bool = True
    position: int = 0
    _values: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_values", frozenset(o.value for o in self.options))

    def text_in(self, lang: str) -> str:
        return _in_language(self.text, lang)

    def accept(self, value: Any) -> Any:
        """The answer as stored, or InvalidInput naming what is wrong (``loc``: value)."""
        kind = self.kind
        if kind is QuestionKind.SINGLE_CHOICE:
            if not isinstance(value, str) or value not in self._values:
                _bad(f"choose one of {', '.join(o.value for o in self.options)}")
            return value
        if kind is QuestionKind.MULTIPLE_CHOICE:
            if not isinstance(value, list) or not value:
                _bad("send a non-empty list of options")
            unknown = [v for v in value if not isinstance(v, str) or v not in self._values]
            if unknown:
                _bad(
                    f"{unknown[0]!r} is not an option; options are "
                    f"{', '.join(o.value for o in self.options)}"
                )
            return sorted(set(value), key=[o.value for o in self.options].index)
        if kind is QuestionKind.YES_NO:
            if not isinstance(value, bool):
                _bad("answer true or false")
            return value
        if kind is QuestionKind.FREE_TEXT:
            limit = self.max_length or FREE_TEXT_LIMIT
            if not isinstance(value, str) or not value.strip():
                _bad("write a short text")
            text = value.strip()
            if len(text) > limit:
                _bad(f"at most {limit} characters (this has {len(text)})")
            return text
        if kind is QuestionKind.DATE:
            if not isinstance(value, str):
                _bad("a date as YYYY-MM-DD")
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                _bad("a date as YYYY-MM-DD")
        if kind is QuestionKind.MONTH:
            match = _MONTH.match(value) if isinstance(value, str) else None
            if match is None or not 1 <= int(match.group(2)) <= 12:
                _bad("a month as YYYY-MM")
            return value
        raise AssertionError(kind)


def tokens(value: Any) -> frozenset[str]:
    """An answer's values as prerequisites name them."""
    if isinstance(value, bool):
        return frozenset({"yes" if value else "no"})
    if isinstance(value, list):
        return frozenset(str(v) for v in value)
    return frozenset({str(value)})


def _bad(message: str) -> Any:
    raise InvalidInput(message, [{"loc": ["body", "value"], "msg": message}])


def _in_language(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts.get(DEFAULT_LANGUAGE) or next(iter(texts.values()))
