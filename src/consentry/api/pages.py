"""Server-rendered pages: Jinja2 templates shipped in the package, HTML escaped by default."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import Response

_ENV = Environment(
    loader=PackageLoader("consentry.api", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(template: str, **context: Any) -> str:
    return _ENV.get_template(template).render(**context)


class PageAnswer(Exception):
    """Raised by a page route's guard (no session, a stale form) to answer with ``response``
    at once; the app's handler sends it."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response
