"""Every word a page shows in English has its German, with the same placeholders: a page
switched to Deutsch never falls back to English mid-sentence."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

API = Path(__file__).resolve().parents[2] / "src" / "consentry" / "api"
# _("…") and _('…') in the templates and the routes that build pages.
CALLS = (re.compile(r'_\(\s*"((?:[^"\\]|\\.)*)"\s*\)'), re.compile(r"_\(\s*'([^'\\]*)'\s*\)"))
# The console is for the retailer's own staff and speaks English only.
ENGLISH_ONLY = ("console", "charts")


def _used() -> dict[str, str]:
    found: dict[str, str] = {}
    files = [*API.glob("templates/*.html"), *API.rglob("*.py")]
    for path in files:
        if path.name.startswith(ENGLISH_ONLY):
            continue
        text = path.read_text()
        for pattern in CALLS:
            for match in pattern.finditer(text):
                found.setdefault(match.group(1).replace('\\"', '"'), path.name)
    return found


def test_every_page_string_has_its_german() -> None:
    with (API / "locales" / "de.po").open("rb") as handle:
        catalog = read_po(handle)
    german = {m.id: m.string for m in catalog if m.id}
    used = _used()
    assert len(used) > 200  # the extraction found the pages' words
    missing = sorted(f"{text!r} ({where})" for text, where in used.items() if not german.get(text))
    assert not missing, "no German for:\n" + "\n".join(missing)
    for text in used:
        placeholders = set(re.findall(r"\{\w+\}", text))
        assert set(re.findall(r"\{\w+\}", str(german[text]))) == placeholders, text


def test_the_catalogue_names_each_text_once() -> None:
    ids = re.findall(r'^msgid "(.+)"$', (API / "locales" / "de.po").read_text(), re.MULTILINE)
    twice = sorted({i for i in ids if ids.count(i) > 1})
    assert not twice, twice
