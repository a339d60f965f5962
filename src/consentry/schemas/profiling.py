"""The wire shapes of progressive profiling: questions, answers, the next question, points."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from consentry.domain.questions import AskChannel, QuestionKind
from consentry.schemas.common import BoundedJson, Strict
from consentry.schemas.consents import Actor, ActorOut

# "What's your favourite colour?" or {"en": "What's your favourite colour?", "de": "…"}.
Text = str | dict[str, str]
_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class OptionIn(Strict):
    value: str = Field(pattern=_ID, examples=["red"])
    label: Text = Field(examples=[{"en": "Red", "de": "Rot"}])


class PrerequisiteIn(Strict):
    question: str = Field(pattern=_ID, examples=["has_children"])
    answered_with: list[str] = Field(
        default_factory=list,
        description="Ask only if the earlier question was answered with one of these "
        "(option values; yes/no questions: 'yes' or 'no'). Empty: any answer.",
        examples=[["yes"]],
    )

    @field_validator("answered_with", mode="before")
    @classmethod
    def _yes_no(cls, value: Any) -> Any:
        # YAML reads an unquoted yes/no as a boolean; here it can only mean the answer.
        if isinstance(value, list):
            return [("yes" if v else "no") if isinstance(v, bool) else v for v in value]
        return value


class QuestionIn(Strict):
    id: str = Field(pattern=_ID, examples=["favourite_colour"])
    text: Text = Field(examples=[{"en": "What's your favourite colour?"}])
    kind: QuestionKind
    options: list[OptionIn] = Field(default_factory=list, max_length=100)
    topic: str = Field(min_length=1, max_length=40, examples=["style"])
    stage: Literal[1, 2, 3] = Field(
        description="1 icebreaker, 2 getting to know, 3 trusted.", examples=[1]
    )
    points: int = Field(ge=0, le=10_000, description="Loyalty points for answering.")
    channels: list[AskChannel] = Field(min_length=1, examples=[["web", "app", "store"]])
    requires: list[PrerequisiteIn] = Field(default_factory=list, max_length=10)
    sensitive: bool = False
    valid_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="For intentions: how many days an answer stays true (then it may be "
        "asked again).",
    )
    max_length: int | None = Field(default=None, ge=1, le=2000, description="Free text only.")

    @model_validator(mode="after")
    def _coherent(self) -> QuestionIn:
        choice = self.kind in (QuestionKind.SINGLE_CHOICE, QuestionKind.MULTIPLE_CHOICE)
        if choice and len(self.options) < 2:
            raise ValueError(f"a {self.kind.value} question needs at least two options")
        if not choice and self.options:
            raise ValueError(f"a {self.kind.value} question takes no options")
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError("option values must be unique")
        if self.max_length is not None and self.kind is not QuestionKind.FREE_TEXT:
            raise ValueError("max_length is for free_text questions only")
        if self.sensitive and self.stage != 3:
            raise ValueError("a sensitive question belongs to stage 3 (trusted)")
        if self.sensitive and not {"web", "app", "email"} & {c.value for c in self.channels}:
            raise ValueError("a sensitive question needs a private channel (web, app, email)")
        if isinstance(self.text, dict) and not self.text:
            raise ValueError("text needs at least one language")
        if self.id in {p.question for p in self.requires}:
            raise ValueError("a question cannot require itself")
        return self


class QuestionBank(Strict):
    questions: list[QuestionIn] = Field(min_length=1, max_length=10_000)


class OptionOut(Strict):
    value: str
    label: dict[str, str]


class QuestionOut(Strict):
    id: str
    text: dict[str, str]
    kind: QuestionKind
    options: list[OptionOut]
    topic: str
    stage: int
    points: int
    channels: list[str]
    requires: list[PrerequisiteIn]
    sensitive: bool
    valid_days: int | None
    max_length: int | None
    active: bool


class QuestionPage(Strict):
    questions: list[QuestionOut]
    next: str | None


class Loaded(Strict):
    created: int
    updated: int
    unchanged: int


class AskedOption(Strict):
    value: str
    label: str


class NextQuestionOut(Strict):
    """One question in the asked language, ready to show."""

    id: str
    text: str = Field(examples=["What's your favourite colour?"])
    kind: QuestionKind
    options: list[AskedOption]
    topic: str
    stage: int
    reward_points: int
    max_length: int | None


class AnswerIn(Strict):
    question: str = Field(pattern=_ID, examples=["favourite_colour"])
    value: BoundedJson = Field(
        examples=["red"],
        description="single_choice: an option value; multiple_choice: a list of them; "
        "yes_no: true/false; free_text: text; date: YYYY-MM-DD; month: YYYY-MM.",
    )
    channel: AskChannel
    actor: Actor


class DeclineIn(Strict):
    channel: AskChannel
    actor: Actor


class AnswerOut(Strict):
    question: str
    status: Literal["answered", "declined"]
    value: Any = Field(description="Null when declined.")
    channel: str
    actor: ActorOut
    answered_at: str
    expires_at: str | None


class AnswerGiven(Strict):
    answer: AnswerOut
    points_earned: int = Field(description="0 when the question had paid before.")
    balance: int


class AnswerList(Strict):
    answers: list[AnswerOut]


class Asking(Strict):
    customer: str
    asking: bool
    stopped_at: str | None


class PointsEntry(Strict):
    id: str
    kind: Literal["earned", "redeemed"]
    points: int = Field(description="Positive when earned, negative when redeemed.")
    question: str | None
    reason: str | None
    at: str


class Points(Strict):
    balance: int
    entries: list[PointsEntry]
    next: str | None


class Redeem(Strict):
    points: int = Field(ge=1, le=1_000_000, examples=[50])
    reason: str = Field(min_length=1, max_length=200, examples=["£5 voucher"])


class Redeemed(Strict):
    entry: PointsEntry
    balance: int
