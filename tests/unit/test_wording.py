"""What the pages write for what the records hold: names for ids, and dates as the page's
language writes them in the retailer's time zone."""

from __future__ import annotations

from consentry.api.i18n import translator
from consentry.api.wording import Wording, day_formatter, locale_of
from consentry.domain.catalogue import Catalogue, Category, Product
from consentry.settings import Settings

SETTINGS = Settings(locations={"store-01-london": "London, Oxford Street"})
CATALOGUE = Catalogue(
    categories={"sport/running/shoes": Category("sport/running/shoes", "Running shoes")},
    products={"SHOE-1": Product("SHOE-1", "Fjord running shoes", "sport/running/shoes")},
)


def _wording(lang: str) -> Wording:
    titles = {"postal_catalogue": "Seasonal catalogue by post"}
    return Wording(SETTINGS, lang, translator(lang), titles, CATALOGUE)


def test_moments_in_the_retailers_clock_and_the_pages_language() -> None:
    # 06:27 UTC in December is 06:27 in London; in July it is an hour later.
    assert _wording("en").when("2026-12-06T06:27:04.806560Z") == "6 Dec 2026, 06:27"
    assert _wording("de").when("2026-12-06T06:27:04.806560Z") == "06.12.2026, 06:27"
    assert _wording("en").when("2026-07-01T06:27:00Z") == "1 Jul 2026, 07:27"
    assert _wording("en").when(None) == "—" and _wording("en").when("not a date") == "—"
    assert day_formatter(locale_of("de", "GB"), "Europe/London")("2026-12-06") == "06.12.2026"


def test_ids_become_the_names_people_know() -> None:
    en, de = _wording("en"), _wording("de")
    assert en.purpose("postal_catalogue") == "Seasonal catalogue by post"
    assert en.purpose("unknown") == "unknown"  # a purpose deleted since: its id, not nothing
    assert (en.action("withdraw"), de.action("withdraw")) == ("Stopped", "Beendet")
    assert (en.channel("sms"), de.channel("sms")) == ("Text message", "SMS")
    assert en.where("store", "store-01-london") == "In store, London, Oxford Street"
    assert de.where("web", "web") == "Auf der Website, Online-Shop"
    assert en.bought("SHOE-1", "sport/running/shoes") == "Fjord running shoes"
    assert en.bought("GONE-9", "sport/running/shoes") == "Running shoes"
    assert de.status("stale") == "Der Hinweis hat sich geändert: Wir fragen erneut"
    assert en.actor({"type": "staff", "id": "clerk-17"}) == "Staff member clerk-17"
    assert en.fields(["name", "loyalty_card"]) == "Name, Loyalty card"
