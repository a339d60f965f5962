"""The pages' words, in a small gettext catalogue: English (the message ids themselves) and
German. The .po files are read with Babel when the package is imported, so no compiled .mo
files are kept in the repository."""

from __future__ import annotations

import gettext
import io
from collections.abc import Callable
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = {"en": "English", "de": "Deutsch"}
DEFAULT = "en"
_FOLDER = Path(__file__).parent / "locales"


def _load(lang: str) -> gettext.NullTranslations:
    path = _FOLDER / f"{lang}.po"
    if not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=Locale.parse(lang))
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


_TRANSLATIONS = {lang: _load(lang) for lang in LANGUAGES}


def choose(asked: str | None, cookie: str | None, accept_language: str | None) -> str:
    """The language of a page: asked in the URL, else remembered in a cookie, else the best
    match of the browser's Accept-Language."""
    for choice in (asked, cookie):
        if choice in LANGUAGES:
            return choice
    if accept_language:
        preferred = [
            part.split(";")[0].strip().replace("-", "_") for part in accept_language.split(",")
        ]
        found = negotiate_locale(preferred, list(LANGUAGES), sep="_")
        if found:
            return found.split("_")[0]
    return DEFAULT


def translator(lang: str) -> Callable[[str], str]:
    return _TRANSLATIONS.get(lang, _TRANSLATIONS[DEFAULT]).gettext
