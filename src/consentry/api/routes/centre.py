"""The customer's preference centre: server-rendered pages under /p/, working without
JavaScript (forms post and redirect) and, with it, updating in place through htmx."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Form, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from consentry.api.deps import CustomersWrite, HubDep
from consentry.api.i18n import LANGUAGES, choose, translator
from consentry.api.json_route import JsonRoute
from consentry.api.pages import PageAnswer, day_of_page, render, render_page, secure_cookie
from consentry.api.wording import wording
from consentry.domain.consent import Action, ActorType
from consentry.domain.errors import DomainError
from consentry.domain.questions import AskChannel
from consentry.schemas.consents import Actor
from consentry.services import (
    centre,
    customers,
    decisions,
    events,
    profiling,
    questions,
    web_access,
)
from consentry.services.hub import Hub
from consentry.services.question_form import answer_from_form, shown
from consentry.services.web_access import LinkProblem, WebSession

router = APIRouter(route_class=JsonRoute, tags=["preference centre"])
SESSION_COOKIE = "consentry_session"
LANG_COOKIE = "consentry_lang"


@router.post("/v1/customers/{customer_id}/preference-link", status_code=201)
def preference_link(hub: HubDep, _caller: CustomersWrite, customer_id: str) -> dict[str, str]:
    """A personal link to the customer's preference centre: it works once, for
    CONSENTRY_LINK_DAYS days (7), and is exchanged for a session on first use."""
    return web_access.create_link(hub, customer_id)


def language_of(request: Request) -> str:
    """Asked in the URL, else remembered in a cookie, else the browser's Accept-Language."""
    return choose(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def page_for(
    request: Request, hub: Hub, template: str, status: int = 200, **context: Any
) -> HTMLResponse:
    lang = language_of(request)
    response = HTMLResponse(render_page(hub, lang, template, **context), status_code=status)
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", secure=secure_cookie(hub)
        )
    return response


def words_for(request: Request) -> Any:
    return translator(language_of(request))


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
    return page_for(
        request, hub, "message.html", status, heading=heading, text=text, offer_link=offer_link
    )


def _no_session(request: Request, hub: Hub) -> HTMLResponse:
    _ = words_for(request)
    return _message(
        request,
        hub,
        401,
        _("Your session has ended"),
        _("For your safety, sessions end after a while. Ask for a new link below."),
        offer_link=True,
    )


def _bad_form(request: Request, hub: Hub) -> HTMLResponse:
    _ = words_for(request)
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
    return page_for(request, hub, "request.html")


@router.post("/p/request", response_class=HTMLResponse, include_in_schema=False)
def request_link(
    request: Request, hub: HubDep, email: Annotated[str, Form(max_length=320)]
) -> HTMLResponse:
    _ = words_for(request)
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
async def centre_page(request: Request, hub: HubDep) -> Response:
    # The session, the customer and their consents in one read on the loop; the question
    # (which may start one, a write) and the page on a worker thread.
    found = await web_access.signed_in(hub, request.cookies.get(SESSION_COOKIE))
    if found is None:
        return _no_session(request, hub)
    session, states = found
    _ = words_for(request)
    problem = None
    if request.query_params.get("problem") == "notice":
        problem = _("This notice changed while you read it. Please read it again and choose.")
    views = await centre.views_soon(hub, states, _)
    customer_id = states.customer.id
    return await asyncio.to_thread(
        _centre, request, hub, session, customer_id, problem=problem, views=views
    )


def _centre(
    request: Request,
    hub: Hub,
    session: WebSession,
    customer_id: str,
    status: int = 200,
    problem: str | None = None,
    views: list[centre.PurposeView] | None = None,
) -> HTMLResponse:
    gpc = request.headers.get("sec-gpc") == "1"
    _ = words_for(request)
    if views is None:
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
    # One question at most, the same one all through this session (its visit).
    question = profiling.next_question(
        hub, centre.CENTRE, customer_id, AskChannel.WEB, session.token
    )
    earned = request.query_params.get("earned", "")
    return page_for(
        request,
        hub,
        "centre.html",
        status,
        sections=centre.sections(views),
        summary=centre.summary(hub, customer_id, views),
        all_channels=_("All channels"),
        csrf=session.csrf,
        gpc_honoured=gpc,
        undo=request.query_params.get("undo"),
        problem=problem,
        ask=profiling.asked_json(question, language_of(request)) if question else None,
        question_to="/p/questions",
        # isdecimal alone takes "²" and other digits int() cannot read.
        earned=int(earned)
        if earned.isascii() and earned.isdecimal() and len(earned) < 10
        else None,
        asking_stopped=request.query_params.get("asking") == "stopped",
    )


@router.post("/p/questions/answer", include_in_schema=False)
async def answer_question(request: Request, hub: HubDep) -> Response:
    form = await request.form()
    session, customer_id = _customer(request, hub, str(form.get("csrf", "")))
    question_id = str(form.get("question", ""))[:64]
    values = [str(v) for v in form.getlist("value")]
    try:
        value = answer_from_form(hub, question_id, values)
        with hub.db.write() as conn:
            given = profiling.answer(
                hub,
                conn,
                centre.CENTRE,
                customer_id,
                question_id,
                value,
                AskChannel.WEB,
                Actor(type=ActorType.CUSTOMER),
            )
    except DomainError as exc:
        _ = words_for(request)
        text = _("Please check your answer:") + " " + exc.detail
        return _centre(request, hub, session, customer_id, 422, problem=text)
    if form.get("back") == "data":
        return RedirectResponse("/p/data#told", status_code=303)
    return RedirectResponse(f"/p/?earned={given['points_earned']}", status_code=303)


@router.post("/p/questions/decline", include_in_schema=False)
def decline_question(
    request: Request,
    hub: HubDep,
    csrf: Annotated[str, Form()],
    question: Annotated[str, Form(max_length=64)],
) -> Response:
    _session, customer_id = _customer(request, hub, csrf)
    try:
        with hub.db.write() as conn:
            profiling.decline(
                hub,
                conn,
                centre.CENTRE,
                customer_id,
                question,
                AskChannel.WEB,
                Actor(type=ActorType.CUSTOMER),
            )
    except DomainError:
        pass  # a question retired meanwhile: nothing to decline
    return RedirectResponse("/p/", status_code=303)


@router.post("/p/asking/{choice}", include_in_schema=False)
def set_asking(
    request: Request, hub: HubDep, choice: str, csrf: Annotated[str, Form()]
) -> Response:
    """ "Stop asking me", or "you may ask me again"."""
    _session, customer_id = _customer(request, hub, csrf)
    if choice not in ("stop", "resume"):
        raise PageAnswer(RedirectResponse("/p/", status_code=303))
    with hub.db.write() as conn:
        profiling.set_asking(hub, conn, customer_id, choice == "resume")
    if choice == "stop":
        return RedirectResponse("/p/?asking=stopped", status_code=303)
    return RedirectResponse("/p/data#asking", status_code=303)


@router.get("/p/answers/{question_id}", response_class=HTMLResponse, include_in_schema=False)
def change_answer_page(request: Request, hub: HubDep, question_id: str) -> Response:
    session, customer_id = _customer(request, hub)
    told = {a["question"]: a for a in profiling.answers_of(hub, customer_id)}
    question = questions.find(hub, question_id)
    given = told.get(question_id)
    if question is None or given is None or given["status"] != "answered":
        raise PageAnswer(RedirectResponse("/p/data#told", status_code=303))
    return page_for(
        request,
        hub,
        "answer.html",
        ask=profiling.asked_json(question, language_of(request)),
        current=given["value"],
        question_to="/p/questions",
        csrf=session.csrf,
    )


@router.post("/p/answers/{question_id}/delete", include_in_schema=False)
def delete_answer(
    request: Request, hub: HubDep, question_id: str, csrf: Annotated[str, Form()]
) -> Response:
    _session, customer_id = _customer(request, hub, csrf)
    try:
        with hub.db.write() as conn:
            profiling.forget(hub, conn, centre.CENTRE, customer_id, question_id)
    except DomainError:
        pass  # already deleted (a second click)
    return RedirectResponse("/p/data#told", status_code=303)


@router.get("/p/data", response_class=HTMLResponse, include_in_schema=False)
def data_page(request: Request, hub: HubDep) -> Response:
    session, customer_id = _customer(request, hub)
    _ = words_for(request)
    doc = centre.data(hub, customer_id)
    lang = language_of(request)
    with hub.db.read() as conn:
        by_id = questions.bank(hub, conn)[1]
    told = [
        {
            **a,
            "text": by_id[a["question"]].text_in(lang) if a["question"] in by_id else a["question"],
            "shown": shown(by_id.get(a["question"]), a["value"], lang, _),
        }
        for a in doc["answers"]
        if a["status"] == "answered"
    ]
    return page_for(
        request,
        hub,
        "data.html",
        doc=doc,
        w=wording(hub, lang, _),
        told=told,
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


@router.get("/p/offers", response_class=HTMLResponse, include_in_schema=False)
def offers_page(request: Request, hub: HubDep) -> Response:
    """Offers for you, each with "Why am I seeing this?" and "Not relevant"."""
    session, customer_id = _customer(request, hub)
    return page_for(
        request,
        hub,
        "offers.html",
        view=decisions.centre_offers(hub, customer_id),
        csrf=session.csrf,
    )


@router.post("/p/offers/{offer_id}/{choice}", include_in_schema=False)
def dismiss_offer(
    request: Request, hub: HubDep, offer_id: str, choice: str, csrf: Annotated[str, Form()]
) -> Response:
    """ "Not relevant" (never shown again), or "show it again"."""
    _session, customer_id = _customer(request, hub, csrf)
    if choice not in ("dismiss", "restore"):
        raise PageAnswer(RedirectResponse("/p/offers", status_code=303))
    with hub.db.write() as conn:
        decisions.set_dismissed(hub, conn, customer_id, offer_id, choice == "dismiss")
    return RedirectResponse("/p/offers", status_code=303)


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
    bundle = centre.receipt(hub, customer_id, record_id)
    if bundle is None:
        _ = words_for(request)
        return _message(
            request,
            hub,
            404,
            _("No such receipt"),
            _("This receipt is not one of yours."),
            offer_link=False,
        )
    return Response(
        orjson.dumps(bundle, option=orjson.OPT_INDENT_2),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="receipt-{record_id}.json"'},
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
        _ = words_for(request)
        [view] = centre.views(hub, customer_id, _, only=purpose)
        view = centre.PurposeView(view.purpose, view.rows, record)
        day = day_of_page(hub, language_of(request))
        page = render("purpose.html", _=_, view=view, csrf=session.csrf, day=day)
        return HTMLResponse(page)
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
        _ = words_for(request)
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
    return page_for(request, hub, "delete.html", csrf=session.csrf)


@router.post("/p/delete", include_in_schema=False)
def delete_account(request: Request, hub: HubDep, csrf: Annotated[str, Form()]) -> Response:
    session, customer_id = _customer(request, hub, csrf)
    customers.erase(hub, customer_id)
    web_access.end_session(hub, session.token)
    _ = words_for(request)
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


CONTINUE_COOKIE = "consentry_continue"


@router.get("/p/{token}", include_in_schema=False)
def open_link(request: Request, hub: HubDep, token: str) -> Response:
    """A link is only looked at here, never used: mail scanners and link previews open every
    link they see. The customer's "Continue" posts it. A browser already signed in with this
    link (opened again from the mail) goes straight to the centre."""
    owner, problem = web_access.peek(hub, token)
    if _signed_in_as(request, hub, owner):
        return RedirectResponse("/p/", status_code=303)
    if problem is not None:
        return _link_problem(request, hub, problem)
    # Double-submit: the form's value must come back with this cookie, which no other site's
    # form sends (SameSite=Strict), so nobody can sign a browser in to their own centre.
    confirm = secrets.token_urlsafe(16)
    response = page_for(request, hub, "continue.html", token=token, confirm=confirm)
    response.set_cookie(
        CONTINUE_COOKIE,
        confirm,
        max_age=3600,
        httponly=True,
        secure=secure_cookie(hub),
        samesite="strict",
        path="/p",
    )
    return response


@router.post("/p/{token}", include_in_schema=False)
def redeem_link(
    request: Request, hub: HubDep, token: str, confirm: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    if SESSION_COOKIE in request.cookies:  # "Continue" sent again (back, reload)?
        owner, _problem = web_access.peek(hub, token)
        if _signed_in_as(request, hub, owner):
            return RedirectResponse("/p/", status_code=303)
    expected = request.cookies.get(CONTINUE_COOKIE)
    if not expected or not hmac.compare_digest(expected, confirm):
        return _bad_form(request, hub)
    opened = web_access.redeem(hub, token)
    if not isinstance(opened, WebSession):
        return _link_problem(request, hub, opened)
    response = RedirectResponse("/p/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=hub.settings.session_minutes * 60,
        httponly=True,
        secure=secure_cookie(hub),
        samesite="lax",
        path="/p",
    )
    response.delete_cookie(CONTINUE_COOKIE, path="/p")
    return response


def _signed_in_as(request: Request, hub: Hub, owner: str | None) -> bool:
    """This browser has a live session of the link's customer (it used the link before)."""
    if owner is None:
        return False
    session = web_access.session(hub, request.cookies.get(SESSION_COOKIE))
    return session is not None and session.customer_id == owner


def _link_problem(request: Request, hub: Hub, problem: LinkProblem) -> HTMLResponse:
    _ = words_for(request)
    texts = {
        LinkProblem.USED: (_("This link was already used"), 410),
        LinkProblem.EXPIRED: (_("This link has expired"), 410),
        LinkProblem.GONE: (_("This account no longer exists"), 410),
        LinkProblem.INVALID: (_("This link is not valid"), 404),
    }
    heading, status = texts[problem]
    return page_for(
        request,
        hub,
        "message.html",
        status,
        heading=heading,
        text=_("Links work once and for a few days, to keep your data safe. Ask for a new one."),
        offer_link=problem is not LinkProblem.GONE,
    )
