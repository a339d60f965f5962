"""The question bank: managed by admin, readable by apps that ask questions."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from consentry.api.deps import Admin, HubDep, PreferencesRead
from consentry.api.json_route import JsonRoute
from consentry.api.writes import write
from consentry.schemas.profiling import QuestionIn, QuestionOut, QuestionPage
from consentry.services import questions

router = APIRouter(route_class=JsonRoute, prefix="/v1/questions", tags=["questions"])


@router.post("", status_code=201, response_model=QuestionOut)
async def create_question(
    hub: HubDep, caller: Admin, body: QuestionIn, request: Request
) -> Response:
    """A new question for progressive profiling (a file of them: ``consentry questions load``)."""
    return await write(
        hub, request, caller, body, 201, lambda conn: questions.create(hub, conn, body)
    )


@router.put("/{question_id}", response_model=QuestionOut)
async def replace_question(
    hub: HubDep, caller: Admin, question_id: str, body: QuestionIn, request: Request
) -> Response:
    """Change a question (or bring a retired one back). Answers already given stay as given."""
    return await write(
        hub,
        request,
        caller,
        body,
        200,
        lambda conn: questions.replace(hub, conn, question_id, body),
    )


@router.delete("/{question_id}", response_model=QuestionOut)
async def retire_question(
    hub: HubDep, caller: Admin, question_id: str, request: Request
) -> Response:
    """Retire a question: never asked again; the answers given stay the customers'."""
    return await write(
        hub, request, caller, None, 200, lambda conn: questions.retire(hub, conn, question_id)
    )


@router.get("", response_model=QuestionPage)
def list_questions(
    hub: HubDep, _caller: PreferencesRead, limit: int = Query(100), after: str | None = None
) -> object:
    return questions.list_page(hub, after, limit)


@router.get("/{question_id}", response_model=QuestionOut)
def get_question(hub: HubDep, _caller: PreferencesRead, question_id: str) -> object:
    return questions.get(hub, question_id)
