"""How the pages say what the records hold: purpose titles for purpose ids, channel and place
names for codes, product names for SKUs, and dates and times in the page's language and the
retailer's time zone (Babel). The JSON export keeps the ids; people read these."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

from consentry.domain.catalogue import Catalogue
from consentry.services import catalogue, purposes
from consentry.services.centre import channel_labels
from consentry.services.hub import Hub
from consentry.settings import Settings

Words = Callable[[str], str]


class Wording:
    def __init__(
        self,
        settings: Settings,
        lang: str,
        _: Words,
        titles: dict[str, str],
        catalogue: Catalogue | None = None,
    ) -> None:
        self._ = _
        self.lang = lang
        self._zone = ZoneInfo(settings.timezone)
        self._locale = locale_of(lang, settings.default_region)
        self.day = day_formatter(self._locale, settings.timezone)
        self._places = settings.locations
        self._titles = titles
        self._catalogue = catalogue
        self._channels = channel_labels(_)
        self._sources = {
            "web": _("On the website"),
            "app": _("In the app"),
            "store": _("In store"),
            "call_centre": _("By phone, with our call centre"),
            "email": _("By e-mail"),
            "import": _("Brought over from an earlier system"),
            "api": _("Through one of our systems"),
        }
        self._fields = {
            "identifiers": _("Your e-mail address, phone and loyalty card"),
            "name": _("Name"),
            "postcode": _("Postcode"),
            "email": _("E-mail"),
            "phone": _("Phone"),
            "loyalty_card": _("Loyalty card"),
            "first name": _("First name"),
            "masked e-mail": _("Part of your e-mail address"),
            "profile": _("Your details"),
            "consents": _("Your choices"),
            "history": _("Every choice you made"),
            "answers": _("What you told us"),
            "events": _("Your purchases"),
            "points": _("Your points"),
            "decisions": _("Offers chosen for you"),
        }
        self._actions = {
            "grant": _("Allowed"),
            "withdraw": _("Stopped"),
            "refuse": _("Left unticked"),
            "request": _("Asked for, waiting for confirmation"),
        }

    def when(self, value: str | None) -> str:
        """A moment, as people write it here: "6 Dec 2026, 06:27" / "06.12.2026, 06:27"."""
        moment = _parse(value)
        if moment is None:
            return "—"
        here = moment.astimezone(self._zone)
        return f"{format_date(here, 'medium', locale=self._locale)}, " + format_time(
            here, "short", locale=self._locale
        )

    def purpose(self, purpose_id: str) -> str:
        return self._titles.get(purpose_id, purpose_id)

    def channel(self, channel: str | None) -> str:
        return self._channels.get(channel, channel or "")

    def status(self, status: str) -> str:
        _ = self._
        return {
            "granted": _("Allowed"),
            "withdrawn": _("Stopped"),
            "expired": _("Expired: we will ask again"),
            "stale": _("The notice changed: we will ask again"),
            "not_set": _("Not asked yet"),
            "refused": _("Left unticked"),
            "unconfirmed": _("Waiting for your confirmation"),
        }.get(status, status)

    def event(self, kind: str) -> str:
        _ = self._
        return {
            "purchase": _("Purchase"),
            "return": _("Return"),
            "store_visit": _("Store visit"),
            "product_view": _("Product viewed"),
            "app_open": _("App opened"),
        }.get(kind, kind)

    def actor(self, actor: dict[str, str | None]) -> str:
        """Who recorded a change: the customer, or a member of staff by their staff id."""
        if actor.get("type") == "staff":
            return self._("Staff member {id}").format(id=actor.get("id") or "")
        if actor.get("type") == "customer":
            return self._("You")
        return self._("One of our systems")

    def fields(self, names: list[str]) -> str:
        """What a system read, in words: "Name, Postcode"."""
        return ", ".join(self._fields.get(name, name.replace("_", " ")) for name in names)

    def action(self, action: str) -> str:
        return self._actions.get(action, action)

    def source(self, source: str) -> str:
        return self._sources.get(source, source)

    def place(self, location: str | None) -> str:
        if not location:
            return ""
        if location == "web":
            return self._("Web shop")
        return self._places.get(location, location)

    def where(self, source: str, location: str | None) -> str:
        """How a change reached us, and where: "In store, London, Oxford Street"."""
        place = self.place(location)
        return f"{self.source(source)}, {place}" if place else self.source(source)

    def bought(self, sku: str | None, category: str | None) -> str:
        """A purchase by the name people know it by: the product, else its category."""
        if self._catalogue is not None:
            product = self._catalogue.products.get(sku or "")
            if product is not None:
                return product.name
            known = self._catalogue.categories.get(category or "")
            if known is not None:
                return known.name
        return category or sku or "—"


def locale_of(lang: str, region: str) -> Locale:
    """The page's language as written in the retailer's country where Babel knows that
    (English in Britain: "6 Dec 2026, 20:31"), else as the language writes it."""
    try:
        return Locale.parse(f"{lang}_{region}")
    except (UnknownLocaleError, ValueError):
        return Locale.parse(lang)


def day_formatter(lang: str | Locale, zone: str) -> Callable[[str | None], str]:
    """A date ("2026-12-06" or a full timestamp) as the page's language writes it."""
    where = ZoneInfo(zone)

    def day(value: str | None) -> str:
        moment = _parse(value)
        if moment is None:
            return value or "—"
        if moment.tzinfo is not None:
            moment = moment.astimezone(where)
        return format_date(moment, "medium", locale=lang)

    return day


def wording(hub: Hub, lang: str, _: Words) -> Wording:
    """The wording of one page: the purposes' titles and the catalogue as they are now."""
    with hub.db.read() as conn:
        titles = {p.id: p.title for p in purposes.catalogue(hub, conn)}
        products = catalogue.current(hub, conn).catalogue
    return Wording(hub.settings, lang, _, titles, products)


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
