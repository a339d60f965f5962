"""The console's rules: who may do what, and how a notice change reads.

Four roles. The admin runs the hub; the privacy officer owns purposes, notices, the evidence
and erasures; the marketer works with questions, offers and the insights (loads question and
catalogue files, retires questions and offers); read-only sees the pages and changes nothing.
Only the admin creates and revokes apps (a key is shown once, to the admin who made it) and
manages staff; the marketer does not see the apps at all.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from consentry.domain.errors import InvalidInput


class Role(StrEnum):
    ADMIN = "admin"
    PRIVACY_OFFICER = "privacy_officer"
    MARKETER = "marketer"
    READ_ONLY = "read_only"


ROLE_NAMES = {
    Role.ADMIN: "Admin",
    Role.PRIVACY_OFFICER: "Privacy officer",
    Role.MARKETER: "Marketer",
    Role.READ_ONLY: "Read-only",
}


class Permission(StrEnum):
    VIEW = "view"  # every page but apps and staff
    EDIT_PURPOSES = "purposes:edit"  # create purposes, publish notice versions
    VIEW_APPS = "apps:view"
    MANAGE_APPS = "apps:manage"  # create (the key shown once) and revoke
    MANAGE_WEBHOOKS = "webhooks:manage"  # enable a disabled endpoint again
    MANAGE_STAFF = "staff:manage"
    EDIT_QUESTIONS = "questions:edit"  # load a question file, retire a question
    EDIT_OFFERS = "offers:edit"  # load a catalogue file, retire an offer
    VERIFY_EVIDENCE = "evidence:verify"


_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PRIVACY_OFFICER: frozenset(
        {
            Permission.VIEW,
            Permission.VIEW_APPS,
            Permission.EDIT_PURPOSES,
            Permission.VERIFY_EVIDENCE,
        }
    ),
    Role.MARKETER: frozenset({Permission.VIEW, Permission.EDIT_QUESTIONS, Permission.EDIT_OFFERS}),
    Role.READ_ONLY: frozenset({Permission.VIEW, Permission.VIEW_APPS}),
}


def may(role: str | None, permission: Permission) -> bool:
    """False for an unknown role or none: an account without a console role has no console."""
    try:
        return permission in _GRANTS[Role(role)] if role else False
    except ValueError:
        return False


def validate_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise InvalidInput(
            f"unknown role {role!r}; roles are {', '.join(r.value for r in Role)}"
        ) from None


@dataclass(frozen=True)
class DiffPart:
    """A run of words in a notice diff: ``same``, ``removed`` or ``added``."""

    kind: str
    text: str


# A word with the space after it: runs of changed words then read as one change
# ("every quarter" → "twice a year"), not word by word around the unchanged spaces.
_WORDS = re.compile(r"\s+|\S+\s*")


def notice_diff(old: str, new: str) -> list[DiffPart]:
    """Word by word, what changed between two notice texts, in reading order (a removed run
    before the run that replaced it)."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    parts: list[DiffPart] = []
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            parts.append(DiffPart("same", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            parts.append(DiffPart("removed", "".join(a[i1:i2])))
        if j2 > j1:
            parts.append(DiffPart("added", "".join(b[j1:j2])))
    return parts
