"""What every console page shares: the signed-in member, the form's CSRF token, the navigation
the member's role may see, and answers for a refusal or a problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import HTMLResponse, RedirectResponse

from consentry.api.pages import PageAnswer, render_page
from consentry.domain.console import ROLE_NAMES, Permission, Role, may
from consentry.domain.staff import StaffMember
from consentry.services import console, web_access
from consentry.services.hub import Hub
from consentry.services.web_access import WebSession

COOKIE = "consentry_console"

# (path, label, what the role needs to see it)
NAVIGATION = (
    ("/console/", "Overview", Permission.VIEW),
    ("/console/insights", "Insights", Permission.VIEW),
    ("/console/purposes", "Purposes", Permission.VIEW),
    ("/console/questions", "Questions", Permission.VIEW),
    ("/console/offers", "Offers", Permission.VIEW),
    ("/console/collection-points", "Collection points", Permission.VIEW),
    ("/console/apps", "Apps and keys", Permission.VIEW_APPS),
    ("/console/webhooks", "Webhooks", Permission.VIEW),
    ("/console/staff", "Staff", Permission.MANAGE_STAFF),
    ("/console/evidence", "Evidence log", Permission.VIEW),
    ("/console/requests", "Erasures and exports", Permission.VIEW),
    ("/console/activity", "Activity", Permission.VIEW),
)


@dataclass(frozen=True)
class Desk:
    """The signed-in member and their session: what a console route works with."""

    session: WebSession
    member: StaffMember

    def may(self, permission: Permission) -> bool:
        return may(self.member.console_role, permission)


def page(
    request: Request,
    hub: Hub,
    template: str,
    desk: Desk | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    nav = []
    role_name = ""
    if desk is not None:
        nav = [(p, label) for p, label, needs in NAVIGATION if desk.may(needs)]
        role_name = ROLE_NAMES[Role(desk.member.console_role or Role.READ_ONLY)]
    html = render_page(
        hub,
        "en",
        template,
        desk=desk,
        member=desk.member if desk else None,
        csrf=desk.session.csrf if desk else None,
        role_name=role_name,
        nav=nav,
        here=request.url.path,
        Permission=Permission,
        **context,
    )
    return HTMLResponse(html, status_code=status)


def to_login() -> RedirectResponse:
    return RedirectResponse("/console/login", status_code=303)


def signed_in(request: Request, hub: Hub, csrf: str | None = None) -> Desk:
    """The signed-in member; with ``csrf``, the form's token checked too. Otherwise the
    request is answered at once: to the sign-in page, or "form expired"."""
    session = web_access.session(hub, request.cookies.get(COOKIE), console=True)
    member = console.member(hub, session) if session is not None else None
    if session is None or member is None:
        raise PageAnswer(to_login())
    desk = Desk(session, member)
    if csrf is not None and csrf != session.csrf:
        raise PageAnswer(
            message(request, hub, desk, 403, "This form has expired. Please try again.")
        )
    return desk


def allowed(request: Request, hub: Hub, desk: Desk, permission: Permission) -> None:
    """Refuse the page when the member's role lacks ``permission``."""
    if not desk.may(permission):
        raise PageAnswer(
            message(
                request,
                hub,
                desk,
                403,
                f"Your role ({ROLE_NAMES[Role(desk.member.console_role or Role.READ_ONLY)]}) may "
                "not open "
                "this page or make this change. Ask an admin.",
            )
        )


def message(request: Request, hub: Hub, desk: Desk | None, status: int, text: str) -> HTMLResponse:
    return page(request, hub, "console_message.html", desk, status, text=text)
