"""Server-rendered pages: Jinja2 templates shipped in the package, HTML escaped by default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import Response

from consentry.api.i18n import LANGUAGES, translator
from consentry.api.wording import day_formatter, locale_of
from consentry.services.hub import Hub

_ENV = Environment(
    loader=PackageLoader("consentry.api", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)


def render_page(hub: Hub, lang: str, template: str, **context: Any) -> str:
    """A whole page: the words in ``lang``, the language switch, the retailer's name."""
    return render(
        template,
        _=translator(lang),
        lang=lang,
        languages=LANGUAGES,
        controller=hub.settings.controller_name,
        contact=hub.settings.controller_contact,
        day=day_of_page(hub, lang),
        **context,
    )


def day_of_page(hub: Hub, lang: str) -> Callable[[str | None], str]:
    """How a page in ``lang`` writes a date: in the retailer's country and time zone."""
    return day_formatter(locale_of(lang, hub.settings.default_region), hub.settings.timezone)


def secure_cookie(hub: Hub) -> bool:
    """Cookies are Secure when the server is published over HTTPS (CONSENTRY_PUBLIC_URL), never
    because of what a request's Host header says."""
    return hub.settings.public_url.lower().startswith("https://")


class PageAnswer(Exception):
    """Raised by a page route's guard (no session, a stale form) to answer with ``response``
    at once; the app's handler sends it."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def set_session_cookie(
    response: Response, hub: Hub, name: str, token: str, minutes: int, path: str
) -> None:
    """A page session's cookie: not readable by scripts, not sent from other sites, Secure
    except on a local address, only for its own pages."""
    response.set_cookie(
        name,
        token,
        max_age=minutes * 60,
        httponly=True,
        secure=secure_cookie(hub),
        samesite="strict",
        path=path,
    )
