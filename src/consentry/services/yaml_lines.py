"""YAML (and JSON) files whose every problem is named by its line: the node tree PyYAML
composes alongside the data, walked by the path a validation error gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def message(error: Any) -> str:
    """A pydantic error's message, with a hint for YAML's yes/no booleans."""
    text = str(error["msg"]).removeprefix("Value error, ")
    if error.get("input") is True or error.get("input") is False:
        text += " (an unquoted yes/no/on/off is read as true/false: put it in quotes)"
    return text


def child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for key_node, value_node in node.value:
            if key_node.value == key:
                found: yaml.Node = value_node
                return found
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
        item: yaml.Node = node.value[key]
        return item
    return None


def line_of(node: yaml.Node | None, loc: list[Any]) -> int:
    """The line of the deepest node ``loc`` reaches."""
    best = node
    for part in loc:
        node = child(node, part)
        if node is None:
            break
        best = node
    return best.start_mark.line + 1 if best is not None else 1


class FileProblems(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def compose(path: Path) -> tuple[Any, yaml.Node | None]:
    """The data of a YAML or JSON file and its node tree, or FileProblems saying what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FileProblems([f"cannot read {path}: {exc}"]) from None
    try:
        return yaml.safe_load(text), yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise FileProblems(
            [f"{where}not valid YAML or JSON: {getattr(exc, 'problem', exc)}"]
        ) from None
