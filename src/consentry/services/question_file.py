"""Question bank files (YAML, or JSON — YAML reads both): every problem named by its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from consentry.schemas_profiling import QuestionIn


class BankFileError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_bank(path: Path) -> list[QuestionIn]:
    """The questions of a file: a list of questions, or a mapping with a ``questions`` list.
    Every problem is reported as ``line N: where: what``; none at all → the questions."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BankFileError([f"cannot read {path}: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise BankFileError(
            [f"{where}not valid YAML or JSON: {getattr(exc, 'problem', exc)}"]
        ) from None
    items, items_node = data, root
    if isinstance(data, dict):
        items, items_node = data.get("questions"), _child(root, "questions")
    if not isinstance(items, list) or not items:
        raise BankFileError(["line 1: expected a list of questions (or 'questions:' holding one)"])
    problems: list[str] = []
    bodies: list[QuestionIn] = []
    for index, item in enumerate(items):
        node = _child(items_node, index)
        try:
            bodies.append(QuestionIn.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                loc = list(error["loc"])
                line = _line(node, loc)
                where = ".".join(str(p) for p in [_name(item, index), *loc])
                problems.append(f"line {line}: {where}: {_message(error)}")
    if problems:
        raise BankFileError(problems)
    return bodies


def lines_of(path: Path) -> list[int]:
    """The line where each question of a (valid) file starts."""
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = _child(root, "questions") if isinstance(root, yaml.MappingNode) else root
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def _name(item: Any, index: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return f"questions[{index}]({item['id']})"
    return f"questions[{index}]"


def _message(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error.get("input") is True or error.get("input") is False:
        message += " (an unquoted yes/no/on/off is read as true/false: put it in quotes)"
    return message


def _child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for key_node, value_node in node.value:
            if key_node.value == key:
                found: yaml.Node = value_node
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        child: yaml.Node = node.value[key]
        return child
    return None


def _line(node: yaml.Node | None, loc: list[Any]) -> int:
    """The line of the deepest node ``loc`` reaches."""
    best = node
    for part in loc:
        node = _child(node, part)
        if node is None:
            break
        best = node
    return best.start_mark.line + 1 if best is not None else 1
