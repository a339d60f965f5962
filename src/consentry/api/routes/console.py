"""The console: server-rendered pages under /console/ for the privacy and marketing teams.
Routes only read the form and choose the page; services/console.py does the work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from consentry.api.console_pages import (
    COOKIE,
    Desk,
    allowed,
    message,
    page,
    signed_in,
    to_login,
)
from consentry.api.deps import HubDep
from consentry.api.json_route import JsonRoute
from consentry.api.pages import set_session_cookie
from consentry.domain.access import Scope
from consentry.domain.console import ROLE_NAMES, Permission
from consentry.domain.errors import DomainError
from consentry.domain.purposes import LegalBasis
from consentry.domain.staff import StaffMember
from consentry.schemas.purposes import PurposeCreate
from consentry.services import catalogue, collection_points, console, desk, insights, questions
from consentry.services.hub import Hub
from consentry.services.web_access import WebSession

router = APIRouter(route_class=JsonRoute, tags=["console"], include_in_schema=False)
Csrf = Annotated[str, Form()]


def _problem(exc: DomainError | ValidationError) -> tuple[int, str]:
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        return 422, f"{field}: {first['msg']}"
    return exc.status, exc.detail


def _back(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _act(
    request: Request,
    hub: Hub,
    csrf: str,
    permission: Permission,
    action: Callable[[StaffMember], object],
    failed: Callable[[Desk, DomainError], Response],
    back: str,
) -> Response:
    """A one-click change (retire, revoke, enable, disable): the member signed in and allowed,
    the change made, then back to ``back`` — or ``failed``'s page, naming what stopped it."""
    here = signed_in(request, hub, csrf)
    allowed(request, hub, here, permission)
    try:
        action(here.member)
    except DomainError as exc:
        return failed(here, exc)
    return _back(back)


# -- signing in and out


@router.get("/console/login", response_class=HTMLResponse)
def login_page(request: Request, hub: HubDep) -> HTMLResponse:
    return page(request, hub, "console_login.html", None)


@router.post("/console/login")
def login(
    request: Request,
    hub: HubDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    ip = request.client.host if request.client else "unknown"
    signed = desk.sign_in(hub, username, password, ip, console=True)
    if signed is desk.SignInProblem.REFUSED:
        return page(request, hub, "console_login.html", None, 401, problem=desk.REFUSED_TEXT)
    assert isinstance(signed, WebSession)
    member = console.member(hub, signed)
    assert member is not None
    console.signed_in(hub, member)
    response = _back("/console/")
    set_session_cookie(
        response, hub, COOKIE, signed.token, hub.settings.staff_session_minutes, "/console"
    )
    return response


@router.post("/console/logout")
def logout(request: Request, hub: HubDep, csrf: Csrf) -> Response:
    here = signed_in(request, hub, csrf)
    console.end(hub, here.session.token)
    response = to_login()
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.get("/console/", response_class=HTMLResponse)
def overview(request: Request, hub: HubDep) -> HTMLResponse:
    here = signed_in(request, hub)
    return page(
        request, hub, "console_overview.html", here, summary=console.overview(hub, here.member)
    )


# -- purposes and notices


def _purposes_page(
    request: Request, hub: Hub, here: Desk, status: int = 200, problem: str | None = None
) -> HTMLResponse:
    return page(
        request,
        hub,
        "console_purposes.html",
        here,
        status,
        purposes=console.purpose_list(hub, here.member),
        legal_bases=[b.value for b in LegalBasis],
        problem=problem,
    )


@router.get("/console/purposes", response_class=HTMLResponse)
def purposes_page(request: Request, hub: HubDep) -> HTMLResponse:
    return _purposes_page(request, hub, signed_in(request, hub))


@router.post("/console/purposes")
def create_purpose(
    request: Request,
    hub: HubDep,
    csrf: Csrf,
    purpose_id: Annotated[str, Form(max_length=64)],
    title: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=5000)],
    legal_basis: Annotated[str, Form(max_length=32)],
    channels: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    here = signed_in(request, hub, csrf)
    allowed(request, hub, here, Permission.EDIT_PURPOSES)
    try:
        body = PurposeCreate(
            id=purpose_id.strip(),
            title=title.strip(),
            description=description.strip(),
            legal_basis=legal_basis,  # pydantic checks it
            channels=[c.strip() for c in channels.split(",") if c.strip()],
        )
        console.create_purpose(hub, here.member, body)
    except (DomainError, ValidationError) as exc:
        return _purposes_page(request, hub, here, *_problem(exc))
    return _back(f"/console/purposes/{body.id}")


def _purpose_page(
    request: Request,
    hub: Hub,
    here: Desk,
    purpose_id: str,
    status: int = 200,
    problem: str | None = None,
) -> HTMLResponse:
    try:
        purpose, notices = console.purpose_detail(hub, here.member, purpose_id)
    except DomainError as exc:
        return message(request, hub, here, exc.status, exc.detail)
    return page(
        request,
        hub,
        "console_purpose.html",
        here,
        status,
        purpose=purpose,
        notices=notices,
        k=hub.settings.insights_k,
        problem=problem,
        published=request.query_params.get("published"),
    )


@router.get("/console/purposes/{purpose_id}", response_class=HTMLResponse)
def purpose_page(request: Request, hub: HubDep, purpose_id: str) -> HTMLResponse:
    return _purpose_page(request, hub, signed_in(request, hub), purpose_id)


@router.post("/console/purposes/{purpose_id}/notice")
def publish_notice(
    request: Request,
    hub: HubDep,
    purpose_id: str,
    csrf: Csrf,
    title: Annotated[str, Form(max_length=200)],
    description: Annotated[str, Form(max_length=5000)],
    reconsent: Annotated[bool, Form()] = False,
) -> Response:
    here = signed_in(request, hub, csrf)
    allowed(request, hub, here, Permission.EDIT_PURPOSES)
    try:
        updated = console.publish_notice(
            hub, here.member, purpose_id, title.strip(), description.strip(), reconsent
        )
    except (DomainError, ValidationError) as exc:
        return _purpose_page(request, hub, here, purpose_id, *_problem(exc))
    return _back(f"/console/purposes/{purpose_id}?published={updated['version']}")


# -- questions and offers: read, loaded from a file, retired

MAX_UPLOAD = 5 * 1024 * 1024  # a catalogue of 100,000 products fits


def _questions_page(
    request: Request,
    hub: Hub,
    here: Desk,
    status: int = 200,
    problems: list[str] | None = None,
    loaded: str | None = None,
) -> HTMLResponse:
    return page(
        request,
        hub,
        "console_questions.html",
        here,
        status,
        questions=questions.bank_now(hub),
        problems=problems,
        loaded=loaded,
    )


@router.get("/console/questions", response_class=HTMLResponse)
def questions_page(request: Request, hub: HubDep) -> HTMLResponse:
    return _questions_page(request, hub, signed_in(request, hub))


async def _load(
    request: Request,
    here: Desk,
    hub: Hub,
    file: UploadFile,
    kind: console.FileKind,
    answer: Callable[..., HTMLResponse],
    summary: Callable[[str, dict[str, int]], str],
) -> HTMLResponse:
    """An uploaded file loaded, and its page again: with what was loaded, or why nothing."""
    allowed(request, hub, here, kind.permission)
    content = await file.read(MAX_UPLOAD + 1)
    if not 0 < len(content) <= MAX_UPLOAD:
        problem = f"choose a YAML or JSON file of at most {MAX_UPLOAD // 1024 // 1024} MB"
        return answer(request, hub, here, 422, [problem])
    name = file.filename or "upload.yaml"
    counts, problems = await run_in_threadpool(
        console.load_file, hub, here.member, kind, name, content
    )
    if problems:
        return answer(request, hub, here, 422, problems)
    return answer(request, hub, here, loaded=summary(name, counts))


@router.post("/console/questions/file")
async def load_questions(
    request: Request, hub: HubDep, csrf: Csrf, file: Annotated[UploadFile, File()]
) -> Response:
    def summary(name: str, n: dict[str, int]) -> str:
        made, changed, same = n["created"], n["updated"], n["unchanged"]
        return f"{name}: {made} questions created, {changed} updated, {same} unchanged."

    here = signed_in(request, hub, csrf)
    return await _load(request, here, hub, file, console.QUESTION_FILE, _questions_page, summary)


@router.post("/console/questions/{question_id}/retire")
def retire_question(request: Request, hub: HubDep, question_id: str, csrf: Csrf) -> Response:
    return _act(
        request,
        hub,
        csrf,
        Permission.EDIT_QUESTIONS,
        lambda member: console.retire_question(hub, member, question_id),
        lambda here, exc: _questions_page(request, hub, here, exc.status, [exc.detail]),
        "/console/questions",
    )


def _offers_page(
    request: Request,
    hub: Hub,
    here: Desk,
    status: int = 200,
    problems: list[str] | None = None,
    loaded: str | None = None,
) -> HTMLResponse:
    with hub.db.read() as conn:
        counts = catalogue.counts_in(conn)
    return page(
        request,
        hub,
        "console_offers.html",
        here,
        status,
        offers=catalogue.offer_page(hub, None, 1000)["offers"],
        counts=counts,
        problems=problems,
        loaded=loaded,
    )


@router.get("/console/offers", response_class=HTMLResponse)
def offers_page(request: Request, hub: HubDep) -> HTMLResponse:
    return _offers_page(request, hub, signed_in(request, hub))


@router.post("/console/offers/file")
async def load_catalogue(
    request: Request, hub: HubDep, csrf: Csrf, file: Annotated[UploadFile, File()]
) -> Response:
    def summary(name: str, n: dict[str, int]) -> str:
        return (
            f"{name}: {n['categories']} categories, {n['products']} products; "
            f"{n['offers_created']} offers created, {n['offers_updated']} updated; "
            f"{n['triggers']} triggers."
        )

    here = signed_in(request, hub, csrf)
    return await _load(request, here, hub, file, console.CATALOGUE_FILE, _offers_page, summary)


@router.post("/console/offers/{offer_id}/retire")
def retire_offer(request: Request, hub: HubDep, offer_id: str, csrf: Csrf) -> Response:
    return _act(
        request,
        hub,
        csrf,
        Permission.EDIT_OFFERS,
        lambda member: console.retire_offer(hub, member, offer_id),
        lambda here, exc: _offers_page(request, hub, here, exc.status, [exc.detail]),
        "/console/offers",
    )


# -- apps and keys


_SCOPES = [s.value for s in Scope if s is not Scope.ADMIN]


def _apps_page(
    request: Request,
    hub: Hub,
    here: Desk,
    status: int = 200,
    problem: str | None = None,
    created: dict[str, object] | None = None,
) -> HTMLResponse:
    return page(
        request,
        hub,
        "console_apps.html",
        here,
        status,
        apps=console.app_list(hub, here.member),
        scopes=_SCOPES,
        purposes=console.purpose_list(hub, here.member),
        problem=problem,
        created=created,
    )


@router.get("/console/apps", response_class=HTMLResponse)
def apps_page(request: Request, hub: HubDep) -> HTMLResponse:
    here = signed_in(request, hub)
    allowed(request, hub, here, Permission.VIEW_APPS)
    return _apps_page(request, hub, here)


@router.post("/console/apps")
def create_app(
    request: Request,
    hub: HubDep,
    csrf: Csrf,
    name: Annotated[str, Form(max_length=200)],
    scopes: Annotated[list[str] | None, Form()] = None,
    purposes: Annotated[list[str] | None, Form()] = None,
) -> Response:
    here = signed_in(request, hub, csrf)
    allowed(request, hub, here, Permission.MANAGE_APPS)
    try:
        created = console.create_app(hub, here.member, name, scopes or [], purposes or [])
    except DomainError as exc:
        return _apps_page(request, hub, here, *_problem(exc))
    # The key is in this page only: not stored, not in a redirect, not cached.
    response = _apps_page(request, hub, here, 201, created=created)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/console/apps/{app_id}/revoke")
def revoke_app(request: Request, hub: HubDep, app_id: str, csrf: Csrf) -> Response:
    return _act(
        request,
        hub,
        csrf,
        Permission.MANAGE_APPS,
        lambda member: console.revoke_app(hub, member, app_id),
        lambda here, exc: _apps_page(request, hub, here, *_problem(exc)),
        "/console/apps",
    )


# -- webhooks


@router.get("/console/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, hub: HubDep) -> HTMLResponse:
    here = signed_in(request, hub)
    return page(
        request,
        hub,
        "console_webhooks.html",
        here,
        endpoints=console.webhook_health(hub, here.member),
    )


@router.post("/console/webhooks/{endpoint_id}/enable")
def enable_webhook(request: Request, hub: HubDep, endpoint_id: str, csrf: Csrf) -> Response:
    return _act(
        request,
        hub,
        csrf,
        Permission.MANAGE_WEBHOOKS,
        lambda member: console.enable_webhook(hub, member, endpoint_id),
        lambda here, exc: message(request, hub, here, exc.status, exc.detail),
        "/console/webhooks",
    )


# -- staff


def _staff_page(
    request: Request, hub: Hub, here: Desk, status: int = 200, problem: str | None = None
) -> HTMLResponse:
    return page(
        request,
        hub,
        "console_staff.html",
        here,
        status,
        staff=console.staff_list(hub, here.member),
        roles=ROLE_NAMES,
        problem=problem,
    )


@router.get("/console/staff", response_class=HTMLResponse)
def staff_page(request: Request, hub: HubDep) -> HTMLResponse:
    here = signed_in(request, hub)
    allowed(request, hub, here, Permission.MANAGE_STAFF)
    return _staff_page(request, hub, here)


@router.post("/console/staff")
def add_staff(
    request: Request,
    hub: HubDep,
    csrf: Csrf,
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1024)],
    desk_name: Annotated[str, Form(max_length=16)] = "",
    location: Annotated[str, Form(max_length=200)] = "",
    role: Annotated[str, Form(max_length=24)] = "",
) -> Response:
    here = signed_in(request, hub, csrf)
    allowed(request, hub, here, Permission.MANAGE_STAFF)
    try:
        console.add_staff(
            hub,
            here.member,
            username.strip().lower(),
            display_name,
            password,
            desk_name or None,
            location or None,
            role or None,
        )
    except DomainError as exc:
        return _staff_page(request, hub, here, *_problem(exc))
    return _back("/console/staff")


@router.post("/console/staff/{staff_id}/disable")
def disable_staff(request: Request, hub: HubDep, staff_id: str, csrf: Csrf) -> Response:
    return _act(
        request,
        hub,
        csrf,
        Permission.MANAGE_STAFF,
        lambda member: console.disable_staff(hub, member, staff_id),
        lambda here, exc: _staff_page(request, hub, here, *_problem(exc)),
        "/console/staff",
    )


# -- the evidence log


@router.get("/console/evidence", response_class=HTMLResponse)
def evidence_page(request: Request, hub: HubDep) -> HTMLResponse:
    here = signed_in(request, hub)
    summary = console.overview(hub, here.member)
    return page(
        request,
        hub,
        "console_evidence.html",
        here,
        head=summary["head"],
        witnesses=summary["witnesses"],
        verifications=console.verifications(hub, here.member),
    )


@router.post("/console/evidence/verify")
def verify(request: Request, hub: HubDep, csrf: Csrf) -> Response:
    here = signed_in(request, hub, csrf)
    allowed(request, hub, here, Permission.VERIFY_EVIDENCE)
    verification_id = console.start_verification(hub, here.member)
    return _back(f"/console/evidence/verifications/{verification_id}")


@router.get("/console/evidence/verifications/{verification_id}", response_class=HTMLResponse)
def verification_page(request: Request, hub: HubDep, verification_id: str) -> HTMLResponse:
    here = signed_in(request, hub)
    try:
        found = console.verification(hub, here.member, verification_id)
    except DomainError as exc:
        return message(request, hub, here, exc.status, exc.detail)
    return page(request, hub, "console_verification.html", here, v=found)


@router.get(
    "/console/evidence/verifications/{verification_id}/progress", response_class=HTMLResponse
)
def verification_progress(request: Request, hub: HubDep, verification_id: str) -> HTMLResponse:
    """The progress block alone, which the page asks for every second until it is done."""
    here = signed_in(request, hub)
    try:
        found = console.verification(hub, here.member, verification_id)
    except DomainError as exc:
        return HTMLResponse(exc.detail, status_code=exc.status)
    return page(request, hub, "console_verification_progress.html", here, v=found)


# -- requests and activity


@router.get("/console/requests", response_class=HTMLResponse)
def requests_page(request: Request, hub: HubDep) -> HTMLResponse:
    here = signed_in(request, hub)
    return page(
        request,
        hub,
        "console_requests.html",
        here,
        erasures=console.erasure_list(hub, here.member),
        exports=console.exports_by_app(hub, here.member),
    )


@router.get("/console/activity", response_class=HTMLResponse)
def activity_page(
    request: Request, hub: HubDep, before: int | None = Query(None, ge=0, le=2**63 - 1)
) -> HTMLResponse:
    here = signed_in(request, hub)
    actions = console.activity(hub, here.member, before)
    return page(
        request,
        hub,
        "console_activity.html",
        here,
        actions=actions,
        more=actions[-1].pk if len(actions) == 50 else None,
    )


# -- collection points


def _points_page(
    request: Request,
    hub: Hub,
    here: Desk,
    status: int = 200,
    problems: list[str] | None = None,
    loaded: str | None = None,
) -> HTMLResponse:
    return page(
        request,
        hub,
        "console_points.html",
        here,
        status,
        points=collection_points.list_all(hub)["collection_points"],
        problems=problems,
        loaded=loaded,
    )


@router.get("/console/collection-points", response_class=HTMLResponse)
def points_page(request: Request, hub: HubDep) -> HTMLResponse:
    return _points_page(request, hub, signed_in(request, hub))


@router.post("/console/collection-points/file")
async def load_points(
    request: Request, hub: HubDep, csrf: Csrf, file: Annotated[UploadFile, File()]
) -> Response:
    def summary(name: str, n: dict[str, int]) -> str:
        made, changed, same = n["created"], n["updated"], n["unchanged"]
        return (
            f"{name}: {made} collection points created, {changed} new versions, {same} unchanged."
        )

    here = signed_in(request, hub, csrf)
    return await _load(request, here, hub, file, console.POINTS_FILE, _points_page, summary)


@router.get("/console/collection-points/{point_id}", response_class=HTMLResponse)
def point_page(
    request: Request,
    hub: HubDep,
    point_id: str,
    first: date | None = Query(None, alias="from"),
    last: date | None = Query(None, alias="to"),
) -> HTMLResponse:
    """A point: where it runs, what it shows in each wording, its embed snippet, and its
    submissions and the share of each box ticked per version and wording (the A/B test)."""
    here = signed_in(request, hub)
    try:
        point = collection_points.get(hub, point_id)
    except DomainError as exc:
        return message(request, hub, here, exc.status, exc.detail)
    last = last or insights.today(hub)
    first = first or last - timedelta(days=364)
    try:
        rates = collection_points.rates(hub, point_id, first, last)
    except DomainError as exc:
        return message(request, hub, here, exc.status, exc.detail)
    return page(
        request,
        hub,
        "console_point.html",
        here,
        point=point,
        rates=rates,
        first=first,
        last=last,
    )
