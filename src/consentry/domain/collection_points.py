"""Collection points: the places a retailer asks for consent itself — the newsletter box in a
web shop's footer, the checkout's tick boxes, an app's sign-up, a tablet at the till.

A point shows boxes (a purpose, maybe one channel, the notice version it presents) worded in
one or two ways (two: an A/B test of the wording), never ticked in advance. A changed point is
a new version; a submission names the version it was shown and is judged against it whole:
every box it showed answered, each at the notice version shown, or nothing is recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from consentry.domain.errors import Conflict, InvalidInput
from consentry.domain.purposes import LegalBasis, Purpose

# Two wordings at most: an A/B test compares two.
MAX_WORDINGS = 2
MAX_BOXES = 12
LANGUAGES = ("en", "de")
IDENTIFY_BY = ("email", "phone", "loyalty_card")
# An origin as browsers send it: scheme, host, maybe a port; no path.
_ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:\d{1,5})?$")


class Placement(StrEnum):
    WEB = "web"
    APP = "app"
    STORE = "store"
    CALL_CENTRE = "call_centre"


@dataclass(frozen=True)
class Box:
    purpose: str
    channel: str | None
    notice_version: int
    notice_hash: str


@dataclass(frozen=True)
class Wording:
    name: str
    heading: dict[str, str]
    labels: list[dict[str, str]]  # one per box, by language
    submit: dict[str, str]


@dataclass(frozen=True)
class Definition:
    """One version of a point: what it shows, where, to whom."""

    name: str
    placement: Placement
    boxes: list[Box]
    wordings: list[Wording]
    languages: list[str]
    origins: list[str]
    identify_by: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "placement": self.placement.value,
            "boxes": [
                {
                    "purpose": b.purpose,
                    "channel": b.channel,
                    "notice_version": b.notice_version,
                    "notice_hash": b.notice_hash,
                }
                for b in self.boxes
            ],
            "wordings": [
                {"name": w.name, "heading": w.heading, "labels": w.labels, "submit": w.submit}
                for w in self.wordings
            ],
            "languages": self.languages,
            "origins": self.origins,
            "identify_by": self.identify_by,
        }

    @staticmethod
    def of(data: dict[str, Any]) -> Definition:
        return Definition(
            name=data["name"],
            placement=Placement(data["placement"]),
            boxes=[
                Box(b["purpose"], b["channel"], b["notice_version"], b["notice_hash"])
                for b in data["boxes"]
            ],
            wordings=[
                Wording(w["name"], w["heading"], w["labels"], w["submit"]) for w in data["wordings"]
            ],
            languages=list(data["languages"]),
            origins=list(data["origins"]),
            identify_by=data.get("identify_by"),
        )

    def wording(self, name: str) -> Wording:
        for wording in self.wordings:
            if wording.name == name:
                return wording
        raise InvalidInput(
            f"this collection point has no wording {name!r}",
            [{"loc": ["wording"], "msg": f"one of {', '.join(w.name for w in self.wordings)}"}],
        )


def _problem(message: str, *loc: str | int) -> InvalidInput:
    return InvalidInput(message, [{"loc": list(loc), "msg": message}])


def check_boxes(raw: list[dict[str, Any]], purposes: dict[str, Purpose]) -> list[Box]:
    """The boxes a point may show: consent purposes it names at their current notice, each
    purpose-and-channel once, none ticked in advance."""
    if not raw or len(raw) > MAX_BOXES:
        raise _problem(f"a collection point shows 1 to {MAX_BOXES} boxes", "boxes")
    boxes: list[Box] = []
    seen: set[tuple[str, str | None]] = set()
    for i, box in enumerate(raw):
        if box.get("pre_ticked"):
            raise _problem(
                "a box ticked in advance is not consent (GDPR recital 32; CJEU C-673/17 "
                "Planet49): leave pre_ticked out",
                "boxes",
                i,
                "pre_ticked",
            )
        purpose = purposes.get(box["purpose"])
        if purpose is None:
            raise _problem(f"unknown purpose {box['purpose']!r}", "boxes", i, "purpose")
        if purpose.legal_basis is not LegalBasis.CONSENT:
            raise _problem(
                f"{purpose.id!r} rests on {purpose.legal_basis.value}, not consent: a box "
                "would ask for what needs no asking",
                "boxes",
                i,
                "purpose",
            )
        channel = box.get("channel")
        purpose.check_channel(channel)
        if (purpose.id, channel) in seen:
            raise _problem("a purpose and channel is shown twice", "boxes", i)
        seen.add((purpose.id, channel))
        boxes.append(Box(purpose.id, channel, purpose.version, purpose.notice_hash))
    return boxes


def check_wordings(raw: list[dict[str, Any]], boxes: int, languages: list[str]) -> list[Wording]:
    if not 1 <= len(raw) <= MAX_WORDINGS:
        raise _problem("one wording, or two to compare (an A/B test)", "wordings")
    names = [w["name"] for w in raw]
    if len(set(names)) != len(names):
        raise _problem("two wordings have one name", "wordings")
    wordings = []
    for i, w in enumerate(raw):
        if len(w["labels"]) != boxes:
            raise _problem(f"{len(w['labels'])} labels for {boxes} boxes", "wordings", i, "labels")
        texts = [w["heading"], w["submit"], *w["labels"]]
        for text in texts:
            missing = [lang for lang in languages if not str(text.get(lang, "")).strip()]
            if missing:
                raise _problem(f"wording {w['name']!r} has no {missing[0]} text", "wordings", i)
        wordings.append(Wording(w["name"], w["heading"], list(w["labels"]), w["submit"]))
    return wordings


def check_origins(origins: list[str], placement: Placement) -> list[str]:
    """The web origins whose pages may post to the point (CORS): exact, no paths."""
    for i, origin in enumerate(origins):
        if not _ORIGIN.match(origin):
            raise _problem(
                f"{origin!r} is not an origin (https://shop.example.com, no path)", "origins", i
            )
    if placement is Placement.WEB and not origins:
        raise _problem("a point on the web names the origins of the pages it is on", "origins")
    return origins


def check_identify_by(identify_by: str | None, placement: Placement) -> str | None:
    """A form on the web asks who fills it in, by e-mail: the one identifier a stranger's
    typing cannot misuse, since a confirmation goes to the address. Apps and tills may name
    customers by any identifier, or by id."""
    if placement is Placement.WEB and identify_by != "email":
        raise _problem(
            "a point on the web asks for the customer's e-mail address: set identify_by: email",
            "identify_by",
        )
    return identify_by


@dataclass(frozen=True)
class Choice:
    box: Box
    chosen: bool


def judge(
    definition: Definition, version: int, shown_version: int, choices: list[dict[str, Any]]
) -> list[Choice]:
    """A submission against the version it was shown: every box answered once, at the notice
    version shown; anything else refuses it whole (nothing is recorded)."""
    if shown_version != version:
        raise Conflict(
            f"this form is version {shown_version}; the point is at version {version} now: "
            "show the current form and ask again",
        )
    by_box = {(b.purpose, b.channel): b for b in definition.boxes}
    answered: dict[tuple[str, str | None], Choice] = {}
    for i, choice in enumerate(choices):
        key = (choice["purpose"], choice.get("channel"))
        box = by_box.get(key)
        if box is None:
            raise _problem(
                f"this point does not show {key[0]!r}"
                + (f" on {key[1]!r}" if key[1] else "")
                + ": a submission names only what was shown",
                "choices",
                i,
            )
        if choice["notice_version"] != box.notice_version:
            raise _problem(
                f"the point showed notice version {box.notice_version} of {box.purpose!r}, "
                f"not {choice['notice_version']}",
                "choices",
                i,
                "notice_version",
            )
        if key in answered:
            raise _problem("a box is answered twice", "choices", i)
        answered[key] = Choice(box, bool(choice["chosen"]))
    missing = [b for key, b in by_box.items() if key not in answered]
    if missing:
        raise _problem(
            f"{missing[0].purpose!r} was shown but not answered: send chosen false for a box "
            "left unticked",
            "choices",
        )
    return [answered[(b.purpose, b.channel)] for b in definition.boxes]
