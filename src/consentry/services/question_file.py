"""Question bank files (YAML, or JSON — YAML reads both): every problem named by its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from consentry.schemas.profiling import QuestionIn
from consentry.services import questions
from consentry.services.hub import Hub
from consentry.services.yaml_lines import FileProblems, child, compose, line_of, message

# The bank's file problems are FileProblems; the old name stays for its callers.
BankFileError = FileProblems


def read_bank(path: Path) -> list[QuestionIn]:
    """The questions of a file: a list of questions, or a mapping with a ``questions`` list.
    Every problem is reported as ``line N: where: what``; none at all → the questions."""
    data, root = compose(path)
    items, items_node = data, root
    if isinstance(data, dict):
        items, items_node = data.get("questions"), child(root, "questions")
    if not isinstance(items, list) or not items:
        raise BankFileError(["line 1: expected a list of questions (or 'questions:' holding one)"])
    problems: list[str] = []
    bodies: list[QuestionIn] = []
    for index, item in enumerate(items):
        node = child(items_node, index)
        try:
            bodies.append(QuestionIn.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors():
                loc = list(error["loc"])
                line = line_of(node, loc)
                where = ".".join(str(p) for p in [_name(item, index), *loc])
                problems.append(f"line {line}: {where}: {message(error)}")
    if problems:
        raise BankFileError(problems)
    return bodies


def lines_of(path: Path) -> list[int]:
    """The line where each question of a (valid) file starts."""
    text = path.read_text(encoding="utf-8")
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = child(root, "questions") if isinstance(root, yaml.MappingNode) else root
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def _name(item: Any, index: int) -> str:
    if isinstance(item, dict) and isinstance(item.get("id"), str):
        return f"questions[{index}]({item['id']})"
    return f"questions[{index}]"


def load_file(hub: Hub, path: Path) -> tuple[dict[str, int], list[str]]:
    """Create or update the questions of a file, all or nothing: the counts, or every problem
    as ``line N: …`` (nothing written then). For the CLI and the console's upload."""
    try:
        bodies = read_bank(path)
    except BankFileError as exc:
        return {}, list(exc.problems)
    counts, problems = questions.load(hub, bodies)
    if not problems:
        return counts, []
    lines = lines_of(path)
    return {}, [
        f"line {lines[i] if i < len(lines) else 1}: {bodies[i].id}: {text}" for i, text in problems
    ]
