"""The receipt verifier docs/evidence.md shows an auditor, loaded from the docs themselves so
the page and the tests cannot drift apart."""

from __future__ import annotations

import ast
import re
import types
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "evidence.md"
ALLOWED_IMPORTS = {"base64", "hashlib", "json", "sys", "cryptography"}


def source() -> str:
    page = DOC.read_text(encoding="utf-8")
    found = re.search(
        r"<!-- standalone-verifier -->\n```python\n(.*?)```\n<!-- /standalone-verifier -->",
        page,
        re.S,
    )
    assert found, "docs/evidence.md lost its standalone verifier block"
    # Blank lines before it, so a traceback names the page's own line numbers.
    return "\n" * page.count("\n", 0, found.start(1)) + found.group(1)


def imported_modules(code: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0])
    return names


def load() -> types.ModuleType:
    code = source()
    module = types.ModuleType("standalone_verifier")
    exec(compile(code, str(DOC), "exec"), module.__dict__)
    return module
