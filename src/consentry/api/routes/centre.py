"""The customer's preference centre: server-rendered pages under /p/, working without
JavaScript (forms post and redirect) and, with it, updating in place through htmx."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from consentry.api.deps import CustomersWrite, HubDep
from consentry.api.i18n import LANGUAGES, choose, translator
from consentry.api.pages import PageAnswer, render, render_page, secure_cookie
from consentry.domain.consent import Action
from consentry.domain.errors import DomainError
from consentry.services import centre, customers, events, web_access
from consentry.services.hub import Hub
from consentry.services.web_access import LinkProblem, WebSession

router = APIRouter(tags=["preference centre"])
SESSION_COOKIE = "consentry_session"
LANG_COOKIE = "consentry_lang"


@router.post("/v1/customers/{customer_id}/preference-link", status_code=201)
def preference_link(hub: HubDep, _caller: CustomersWrite, customer_id: str) -> dict[str, str]:
    """A personal link to the customer's preference centre: it works once, for
    CONSENTRY_LINK_DAYS days (7), and is exchanged for a session on first use."""
    return web_access.create_link(hub, customer_id)


def _lang(request: Request) -> str:
    """Asked in the URL, else remembered in a cookie, else the browser's Accept-Language."""
    return choose(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def _page(
    request: Request, hub: Hub, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = _lang(request)
    response = HTMLResponse(render_page(hub, lang, template, **context), status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", secure=secure_cookie(request)
        )
    return response


def _words(request: Request) -> Any:
    return translator(_lang(request))


def _customer(request: Request, hub: Hub, csrf: str | None = None) -> tuple[WebSession, str]:
    """The signed-in customer's session and id; with ``csrf``, the form's token checked too.
    Otherwise the request is answered at once: "session ended" or "form expired"."""
    session = web_access.session(hub, request.cookies.get(SESSION_COOKIE))
    if session is None or session.customer_id is None:
        raise PageAnswer(_no_session(request, hub))
    if csrf is not None and csrf != session.csrf:
        raise PageAnswer(_bad_form(request, hub))
    return session, session.customer_id


def _message(
    request: Request, hub: Hub, status: int, heading: str, text: str, *, offer_link: bool
) -> HTMLResponse:
    """A page that says one thing, and offers a new link where that helps."""
    return _page(
        request, hub, "message.html", status, heading=heading, text=text, offer_link=offer_link
    )


def _no_session(request: Request, hub: Hub) -> HTMLResponse:
    _ = _words(request)
    return _message(
        request,
        hub,
        401,
        _("Your session has ended"),
        _("For your safety, sessions end after a while. Ask for a new link below."),
        offer_link=True,
    )


def _bad_form(request: Request, hub: Hub) -> HTMLResponse:
    _ = _words(request)
    return _message(
        request,
        hub,
        403,
        _("This form has expired"),
        _("Please go back, reload the page and try again."),
        offer_link=False,
    )


@router.get("/p/request", response_class=HTMLResponse, include_in_schema=False)
def request_page(request: Request, hub: HubDep) -> HTMLResponse:
    return _page(request, hub, "request.html")


@router.post("/p/request", response_class=HTMLResponse, include_in_schema=False)
def request_link(
    request: Request, hub: HubDep, email: Annotated[str, Form(max_length=320)]
) -> HTMLResponse:
    _ = _words(request)
    ip = request.client.host if request.client else "unknown"
    sent = web_access.request_link(
        hub,
        email,
        ip,
        _("Your link to your privacy choices"),
        _("Open this link to see and change your privacy choices (it works once, for 7 days):")
        + "\n\n{url}\n",
    )
    if not sent:
        return _message(
            request,
            hub,
            429,
            _("Too many requests"),
            _("Please wait an hour before asking for another link."),
            offer_link=False,
        )
    return _message(
        request,
        hub,
        200,
        _("Check your e-mail"),
        _("If this address belongs to a customer, a link is on its way."),
        offer_link=False,
    )


@router.get("/p/", response_class=HTMLResponse, include_in_schema=False)
def centre_page(request: Request, hub: HubDep) -> Response:
    session, customer_id = _customer(request, hub)
    gpc = request.headers.get("sec-gpc") == "1"
    _ = _words(request)
    views = centre.views(hub, customer_id, _)
    # Browsers send the signal with every request: the views are read again only when it
    # changed something.
    if gpc and centre.honour_gpc(hub, customer_id, views):
        views = centre.views(hub, customer_id, _)
    receipt_for = request.query_params.get("purpose")
    record = request.query_params.get("record")
    if receipt_for and record:
        views = [
            centre.PurposeView(v.purpose, v.rows, record if v.purpose.id == receipt_for else None)
            for v in views
        ]
    problem = None
    if request.query_params.get("problem") == "notice":
        problem = _("This notice changed while you read it. Please read it again and choose.")
    return _page(
        request,
        hub,
        "centre.html",
        purposes=views,
        csrf=session.csrf,
        gpc_honoured=gpc,
        undo=request.query_params.get("undo"),
        problem=problem,
    )


@router.get("/p/data", response_class=HTMLResponse, include_in_schema=False)
def data_page(request: Request, hub: HubDep) -> Response:
    session, customer_id = _customer(request, hub)
    _ = _words(request)
    kinds = {"email": _("E-mail"), "phone": _("Phone"), "loyalty_card": _("Loyalty card")}
    return _page(
        request,
        hub,
        "data.html",
        doc=centre.data(hub, customer_id),
        kind_labels=kinds,
        csrf=session.csrf,
    )


@router.post("/p/events/{event_id}/{choice}", include_in_schema=False)
def exclude_event(
    request: Request, hub: HubDep, event_id: str, choice: str, csrf: Annotated[str, Form()]
) -> Response:
    """A purchase marked "don't use this for recommendations" (a gift, say), or taken back."""
    _session, customer_id = _customer(request, hub, csrf)
    if choice not in ("exclude", "include"):
        raise PageAnswer(RedirectResponse("/p/data", status_code=303))
    events.set_excluded(hub, customer_id, event_id, choice == "exclude")
    return RedirectResponse("/p/data", status_code=303)


@router.get("/p/download", include_in_schema=False)
def download(request: Request, hub: HubDep) -> Response:
    _session, customer_id = _customer(request, hub)
    body = orjson.dumps(centre.data(hub, customer_id), option=orjson.OPT_INDENT_2)
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


@router.get("/p/receipts/{record_id}", include_in_schema=False)
def receipt(request: Request, hub: HubDep, record_id: str) -> Response:
    _session, customer_id = _customer(request, hub)
    jws = centre.receipt(hub, customer_id, record_id)
    if jws is None:
        _ = _words(request)
        return _message(
            request,
            hub,
            404,
            _("No such receipt"),
            _("This receipt is not one of yours."),
            offer_link=False,
        )
    return Response(
        jws,
        media_type="application/jose",
        headers={"Content-Disposition": f'attachment; filename="receipt-{record_id}.jws"'},
    )


@router.post("/p/consents", include_in_schema=False)
def change_consent(
    request: Request,
    hub: HubDep,
    csrf: Annotated[str, Form()],
    purpose: Annotated[str, Form(max_length=64)],
    action: Annotated[Action, Form()],
    notice_version: Annotated[int, Form(ge=1)],
    channel: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    session, customer_id = _customer(request, hub, csrf)
    try:
        record = centre.change(hub, customer_id, purpose, channel or None, action, notice_version)
    except DomainError:
        return RedirectResponse(f"/p/?problem=notice#purpose-{purpose}", status_code=303)
    if request.headers.get("hx-request") == "true":
        _ = _words(request)
        [view] = centre.views(hub, customer_id, _, only=purpose)
        view = centre.PurposeView(view.purpose, view.rows, record)
        return HTMLResponse(render("purpose.html", _=_, view=view, csrf=session.csrf))
    return RedirectResponse(
        f"/p/?purpose={purpose}&record={record}#purpose-{purpose}", status_code=303
    )


@router.post("/p/stop-all", include_in_schema=False)
def stop_all(request: Request, hub: HubDep, csrf: Annotated[str, Form()]) -> Response:
    _session, customer_id = _customer(request, hub, csrf)
    token = centre.stop_all(hub, customer_id)
    return RedirectResponse(f"/p/?undo={token}" if token else "/p/", status_code=303)


@router.post("/p/undo", include_in_schema=False)
def undo(
    request: Request,
    hub: HubDep,
    csrf: Annotated[str, Form()],
    undo: Annotated[str, Form(max_length=20_000)],
) -> Response:
    _session, customer_id = _customer(request, hub, csrf)
    if centre.undo(hub, customer_id, undo) is None:
        _ = _words(request)
        return _message(
            request,
            hub,
            409,
            _("Too late to undo"),
            _("Undo works for a few seconds. You can still allow each purpose again."),
            offer_link=False,
        )
    return RedirectResponse("/p/", status_code=303)


@router.get("/p/delete", response_class=HTMLResponse, include_in_schema=False)
def delete_page(request: Request, hub: HubDep) -> Response:
    session, _customer_id = _customer(request, hub)
    return _page(request, hub, "delete.html", csrf=session.csrf)


@router.post("/p/delete", include_in_schema=False)
def delete_account(request: Request, hub: HubDep, csrf: Annotated[str, Form()]) -> Response:
    session, customer_id = _customer(request, hub, csrf)
    customers.erase(hub, customer_id)
    web_access.end_session(hub, session.token)
    _ = _words(request)
    response = _message(
        request,
        hub,
        200,
        _("Your account is deleted"),
        _("We have deleted your details. Thank you for having been our customer."),
        offer_link=False,
    )
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/p/{token}", include_in_schema=False)
def open_link(request: Request, hub: HubDep, token: str) -> Response:
    opened = web_access.redeem(hub, token)
    if isinstance(opened, WebSession):
        response = RedirectResponse("/p/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            opened.token,
            max_age=hub.settings.session_minutes * 60,
            httponly=True,
            secure=secure_cookie(request),
            samesite="lax",
            path="/p",
        )
        return response
    _ = _words(request)
    texts = {
        LinkProblem.USED: (_("This link was already used"), 410),
        LinkProblem.EXPIRED: (_("This link has expired"), 410),
        LinkProblem.GONE: (_("This account no longer exists"), 410),
        LinkProblem.INVALID: (_("This link is not valid"), 404),
    }
    heading, status = texts[opened]
    return _page(
        request,
        hub,
        "message.html",
        status,
        heading=heading,
        text=_("Links work once and for a few days, to keep your data safe. Ask for a new one."),
        offer_link=opened is not LinkProblem.GONE,
    )
