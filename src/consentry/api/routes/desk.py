"""The staff desk: server-rendered pages under /desk/ for clerks and call-centre agents."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse, RedirectResponse, Response

from consentry.api.deps import HubDep
from consentry.api.i18n import choose, translator
from consentry.api.json_route import JsonRoute
from consentry.api.pages import PageAnswer, render_page, set_session_cookie
from consentry.api.wording import wording
from consentry.domain.consent import Action
from consentry.domain.errors import AmbiguousMatch, DomainError
from consentry.domain.staff import StaffMember
from consentry.schemas.customers import CustomerLookup
from consentry.services import desk, web_access
from consentry.services.centre import PurposeView, channel_labels, sections
from consentry.services.hub import Hub
from consentry.services.web_access import WebSession

router = APIRouter(route_class=JsonRoute, tags=["staff desk"], include_in_schema=False)
COOKIE = "consentry_desk"


def _lang(request: Request) -> str:
    return choose(None, None, request.headers.get("accept-language"))


def _page(
    request: Request, hub: Hub, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    html = render_page(hub, _lang(request), template, staff=True, **context)
    return HTMLResponse(html, status_code=status)


def _search(
    request: Request,
    hub: Hub,
    session: WebSession,
    member: StaffMember,
    status: int,
    problem: str,
) -> HTMLResponse:
    """The search page again, saying what went wrong."""
    return _page(
        request,
        hub,
        "desk_search.html",
        status,
        member=member,
        csrf=session.csrf,
        problem=problem,
        in_store=desk.in_store(hub, member),
    )


def _signed_in(request: Request, hub: Hub) -> tuple[WebSession, StaffMember] | None:
    session = web_access.session(hub, request.cookies.get(COOKIE))
    if session is None:
        return None
    member = desk.member(hub, session)
    return (session, member) if member is not None else None


def _clerk(request: Request, hub: Hub, csrf: str | None = None) -> tuple[WebSession, StaffMember]:
    """The signed-in staff member; with ``csrf``, the form's token checked too. Otherwise the
    request is answered at once: to the sign-in page, or "form expired"."""
    signed_in = _signed_in(request, hub)
    if signed_in is None:
        raise PageAnswer(_to_login())
    session, member = signed_in
    if csrf is not None and csrf != session.csrf:
        _ = translator(_lang(request))
        raise PageAnswer(
            _search(
                request,
                hub,
                session,
                member,
                403,
                _("This form has expired. Please try again."),
            )
        )
    return session, member


def _to_login() -> RedirectResponse:
    return RedirectResponse("/desk/login", status_code=303)


@router.get("/desk/login", response_class=HTMLResponse)
def login_page(request: Request, hub: HubDep) -> HTMLResponse:
    return _page(request, hub, "desk_login.html")


@router.post("/desk/login")
def login(
    request: Request,
    hub: HubDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    ip = request.client.host if request.client else "unknown"
    signed = desk.sign_in(hub, username, password, ip)
    _ = translator(_lang(request))
    if signed is desk.SignInProblem.REFUSED:
        return _page(request, hub, "desk_login.html", 401, problem=_(desk.REFUSED_TEXT))
    assert isinstance(signed, WebSession)
    response = RedirectResponse("/desk/", status_code=303)
    set_session_cookie(
        response, hub, COOKIE, signed.token, hub.settings.staff_session_minutes, "/desk"
    )
    return response


@router.post("/desk/logout")
def logout(request: Request, hub: HubDep, csrf: Annotated[str, Form()]) -> Response:
    signed_in = _signed_in(request, hub)
    if signed_in is not None and csrf == signed_in[0].csrf:
        web_access.end_session(hub, signed_in[0].token)
    response = _to_login()
    response.delete_cookie(COOKIE, path="/desk")
    return response


@router.get("/desk/", response_class=HTMLResponse)
def search_page(request: Request, hub: HubDep) -> Response:
    session, member = _clerk(request, hub)
    return _page(
        request,
        hub,
        "desk_search.html",
        member=member,
        csrf=session.csrf,
        in_store=desk.in_store(hub, member),
    )


@router.post("/desk/notifications/{notification_id}/done")
def notification_done(
    request: Request, hub: HubDep, notification_id: str, csrf: Annotated[str, Form()]
) -> Response:
    """The clerk has seen to it: off the list."""
    _session, member = _clerk(request, hub, csrf)
    with contextlib.suppress(DomainError):  # already done, or another store's: nothing to do
        desk.notification_done(hub, member, notification_id)
    return RedirectResponse("/desk/", status_code=303)


@router.post("/desk/find")
def find(
    request: Request,
    hub: HubDep,
    csrf: Annotated[str, Form()],
    loyalty_card: Annotated[str, Form(max_length=64)] = "",
    email: Annotated[str, Form(max_length=320)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    postcode: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    session, member = _clerk(request, hub, csrf)
    _ = translator(_lang(request))
    given = {
        k: v.strip()
        for k, v in {
            "loyalty_card": loyalty_card,
            "email": email,
            "phone": phone,
            "name": name,
            "postcode": postcode,
        }.items()
        if v.strip()
    }
    try:
        found = desk.find(hub, member, CustomerLookup(**given))
    except AmbiguousMatch:
        problem = _(
            "Several customers have this name and postcode: ask for a card, e-mail or phone."
        )
        return _search(request, hub, session, member, 409, problem)
    except (DomainError, ValidationError):
        problem = _("Give one of card, e-mail or phone, or both name and postcode.")
        return _search(request, hub, session, member, 422, problem)
    if found is None:
        return _search(
            request,
            hub,
            session,
            member,
            404,
            _("No customer matches."),
        )
    return RedirectResponse(f"/desk/customers/{found}", status_code=303)


def _customer(
    request: Request,
    hub: Hub,
    session: WebSession,
    member: StaffMember,
    customer_id: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    _ = translator(_lang(request))
    card = desk.card(hub, member, customer_id, _)
    record = request.query_params.get("record")
    purpose = request.query_params.get("purpose")
    if record and purpose:
        card.purposes[:] = [
            PurposeView(v.purpose, v.rows, record if v.purpose.id == purpose else None)
            for v in card.purposes
        ]
    return _page(
        request,
        hub,
        "desk_customer.html",
        status,
        member=member,
        csrf=session.csrf,
        card=card,
        card_sections=sections(card.purposes),
        post_to=f"/desk/customers/{customer_id}/consents",
        ask=desk.question_to_ask(hub, member, session.token, customer_id, _lang(request)),
        question_to=f"/desk/customers/{customer_id}/questions",
        **context,
    )


@router.get("/desk/customers/{customer_id}", response_class=HTMLResponse)
def customer_page(request: Request, hub: HubDep, customer_id: str) -> Response:
    session, member = _clerk(request, hub)
    _ = translator(_lang(request))
    done = _("Everything is withdrawn.") if request.query_params.get("opted_out") else None
    try:
        return _customer(request, hub, session, member, customer_id, done=done)
    except DomainError:
        return _search(
            request,
            hub,
            session,
            member,
            404,
            _("No customer matches."),
        )


@router.post("/desk/customers/{customer_id}/consents")
def record_change(
    request: Request,
    hub: HubDep,
    customer_id: str,
    csrf: Annotated[str, Form()],
    purpose: Annotated[str, Form(max_length=64)],
    action: Annotated[Action, Form()],
    notice_version: Annotated[int, Form(ge=1)],
    channel: Annotated[str, Form(max_length=16)] = "",
    agreed: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    """A withdrawal is recorded at once (opting out is one step); a grant only after the clerk
    has read the notice out and confirms that the customer agreed to it."""
    session, member = _clerk(request, hub, csrf)
    if action is Action.GRANT and agreed != "yes":
        notice = desk.notice_to_read(hub, purpose, notice_version)
        if notice is not None:
            _ = translator(_lang(request))
            return _page(
                request,
                hub,
                "desk_grant.html",
                member=member,
                csrf=session.csrf,
                customer_id=customer_id,
                notice=notice,
                purpose=purpose,
                channel=channel,
                channel_label=channel_labels(_).get(channel or None, channel),
            )
    try:
        record = desk.record(
            hub, member, customer_id, purpose, channel or None, action, notice_version
        )
    except DomainError as exc:
        return _customer(request, hub, session, member, customer_id, exc.status, problem=exc.detail)
    return RedirectResponse(
        f"/desk/customers/{customer_id}?purpose={purpose}&record={record}#purpose-{purpose}",
        status_code=303,
    )


@router.post("/desk/customers/{customer_id}/questions/answer")
async def answer_question(request: Request, hub: HubDep, customer_id: str) -> Response:
    """The customer's answer, recorded with the clerk as actor."""
    form = await request.form()
    session, member = _clerk(request, hub, str(form.get("csrf", "")))
    question_id = str(form.get("question", ""))[:64]
    values = [str(v) for v in form.getlist("value")]
    _ = translator(_lang(request))
    try:
        earned = desk.record_answer(hub, member, customer_id, question_id, values)
    except DomainError as exc:
        return _customer(request, hub, session, member, customer_id, exc.status, problem=exc.detail)
    done = _("Saved. The customer earned {points} points.").format(points=earned)
    return _customer(request, hub, session, member, customer_id, done=done)


@router.post("/desk/customers/{customer_id}/questions/decline")
def decline_question(
    request: Request,
    hub: HubDep,
    customer_id: str,
    csrf: Annotated[str, Form()],
    question: Annotated[str, Form(max_length=64)],
) -> Response:
    _session, member = _clerk(request, hub, csrf)
    # A question retired meanwhile: nothing to record.
    with contextlib.suppress(DomainError):
        desk.record_decline(hub, member, customer_id, question)
    return RedirectResponse(f"/desk/customers/{customer_id}", status_code=303)


@router.get("/desk/customers/{customer_id}/opt-out", response_class=HTMLResponse)
def opt_out_page(request: Request, hub: HubDep, customer_id: str) -> Response:
    session, member = _clerk(request, hub)
    return _page(
        request, hub, "desk_confirm.html", member=member, csrf=session.csrf, customer_id=customer_id
    )


@router.post("/desk/customers/{customer_id}/opt-out")
def opt_out(
    request: Request, hub: HubDep, customer_id: str, csrf: Annotated[str, Form()]
) -> Response:
    _session, member = _clerk(request, hub, csrf)
    desk.opt_out_of_everything(hub, member, customer_id)
    return RedirectResponse(f"/desk/customers/{customer_id}?opted_out=1", status_code=303)


@router.get("/desk/receipts/{record_id}", response_class=HTMLResponse)
def receipt_page(request: Request, hub: HubDep, record_id: str) -> Response:
    session, member = _clerk(request, hub)
    found = desk.receipt(hub, member, record_id)
    if found is None:
        return _search(
            request,
            hub,
            session,
            member,
            404,
            translator(_lang(request))("No such record."),
        )
    return _receipt(request, hub, session, member, found["record"], None)


@router.post("/desk/receipts/{record_id}/send", response_class=HTMLResponse)
def send_receipt(
    request: Request, hub: HubDep, record_id: str, csrf: Annotated[str, Form()]
) -> Response:
    session, member = _clerk(request, hub, csrf)
    _ = translator(_lang(request))
    found = desk.receipt(hub, member, record_id)
    if found is None:
        return _search(
            request,
            hub,
            session,
            member,
            403,
            _("This form has expired. Please try again."),
        )
    sent = desk.send_receipt(
        hub,
        member,
        record_id,
        _("Your consent receipt"),
        _("Here is the receipt of the change you asked for. The attached file is signed."),
    )
    message = (
        _("Sent to the customer's e-mail address.")
        if sent
        else _("This customer has no e-mail address with us: print the page instead.")
    )
    return _receipt(request, hub, session, member, found["record"], message)


def _receipt(
    request: Request,
    hub: Hub,
    session: WebSession,
    member: StaffMember,
    record: dict[str, Any],
    sent: str | None,
) -> Response:
    lang = _lang(request)
    return _page(
        request,
        hub,
        "desk_receipt.html",
        member=member,
        csrf=session.csrf,
        r=record,
        w=wording(hub, lang, translator(lang)),
        sent=sent,
    )
