"""Progressive profiling for one customer: the next question, answers, "stop asking", points."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy import Connection
from starlette.responses import Response

from consentry.api.deps import HubDep, PreferencesRead, PreferencesWrite
from consentry.api.json_route import JsonRoute, json_answer
from consentry.api.writes import write
from consentry.domain.questions import AskChannel
from consentry.schemas.profiling import (
    AnswerGiven,
    AnswerIn,
    AnswerList,
    AnswerOut,
    Asking,
    DeclineIn,
    NextQuestionOut,
    Points,
    Redeem,
    Redeemed,
)
from consentry.services import profiling, reads

router = APIRouter(
    route_class=JsonRoute, prefix="/v1/customers/{customer_id}", tags=["progressive profiling"]
)


@router.get(
    "/next-question",
    response_model=NextQuestionOut,
    responses={204: {"description": "Nothing to ask now."}},
)
def next_question(
    hub: HubDep,
    caller: PreferencesRead,
    customer_id: str,
    channel: AskChannel,
    visit: Annotated[
        str | None,
        Query(
            max_length=200,
            description="The app's id for this visit or session: within one visit the same "
            "question is shown again and no other is asked.",
        ),
    ] = None,
    lang: Annotated[str, Query(pattern=r"^[a-z]{2}$")] = "en",
) -> Response:
    """The one question that may be asked now, or 204. Nothing is asked without consent to the
    profiling purpose, after "stop asking me", within the cool-down after the last question, or
    twice in one visit; see docs/profiling.md for every rule."""
    question = profiling.next_question(hub, caller, customer_id, channel, visit)
    if question is None:
        return Response(status_code=204, headers={"Cache-Control": "no-store"})
    body = NextQuestionOut.model_validate(profiling.asked_json(question, lang))
    return Response(
        body.model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.post("/answers", response_model=AnswerGiven)
async def give_answer(
    hub: HubDep, caller: PreferencesWrite, customer_id: str, body: AnswerIn, request: Request
) -> Response:
    """Store an answer (or change it). The question's points are paid the first time only —
    not again on a retry, an edit, or after a deletion."""
    return await write(
        hub,
        request,
        caller,
        body,
        200,
        lambda conn: profiling.answer(
            hub, conn, caller, customer_id, body.question, body.value, body.channel, body.actor
        ),
        customer_id=customer_id,
    )


@router.post("/answers/{question_id}/decline", response_model=AnswerOut)
async def decline_question(
    hub: HubDep,
    caller: PreferencesWrite,
    customer_id: str,
    question_id: str,
    body: DeclineIn,
    request: Request,
) -> Response:
    """ "Rather not say": the question is not asked again for the decline period (90 days)."""
    return await write(
        hub,
        request,
        caller,
        body,
        200,
        lambda conn: profiling.decline(
            hub, conn, caller, customer_id, question_id, body.channel, body.actor
        ),
        customer_id=customer_id,
    )


@router.get("/answers", response_model=AnswerList)
async def list_answers(hub: HubDep, caller: PreferencesRead, customer_id: str) -> Response:
    """What the customer told us, with where, when and by whom each answer was recorded."""
    return json_answer(await reads.answers(hub, caller, customer_id))


@router.delete("/answers/{question_id}", status_code=204)
async def delete_answer(
    hub: HubDep, caller: PreferencesWrite, customer_id: str, question_id: str, request: Request
) -> Response:
    """The customer takes an answer back: its value is erased (points earned stay)."""

    def use_case(conn: Connection) -> None:
        profiling.forget(hub, conn, caller, customer_id, question_id)

    await write(hub, request, caller, None, 204, use_case, customer_id=customer_id)
    return Response(status_code=204)


@router.get("/asking", response_model=Asking)
def asking(hub: HubDep, _caller: PreferencesRead, customer_id: str) -> object:
    return profiling.asking(hub, customer_id)


async def _set_asking(
    hub: HubDep, caller: PreferencesWrite, customer_id: str, request: Request, asking: bool
) -> Response:
    return await write(
        hub,
        request,
        caller,
        None,
        200,
        lambda conn: profiling.set_asking(hub, conn, customer_id, asking),
        customer_id=customer_id,
    )


@router.post("/stop-asking", response_model=Asking)
async def stop_asking(
    hub: HubDep, caller: PreferencesWrite, customer_id: str, request: Request
) -> Response:
    """ "Stop asking me": no question is asked until the customer says otherwise."""
    return await _set_asking(hub, caller, customer_id, request, False)


@router.post("/resume-asking", response_model=Asking)
async def resume_asking(
    hub: HubDep, caller: PreferencesWrite, customer_id: str, request: Request
) -> Response:
    """ "You may ask me again"."""
    return await _set_asking(hub, caller, customer_id, request, True)


@router.get("/points", response_model=Points)
async def points(
    hub: HubDep,
    _caller: PreferencesRead,
    customer_id: str,
    limit: int = Query(100),
    after: str | None = None,
) -> Response:
    """The balance and its entries, newest first."""
    return json_answer(await reads.points(hub, customer_id, after, limit))


@router.post("/points/redeem", status_code=201, response_model=Redeemed)
async def redeem(
    hub: HubDep, caller: PreferencesWrite, customer_id: str, body: Redeem, request: Request
) -> Response:
    """Spend points; 409 ``insufficient-points`` when the balance is short (nothing spent).
    Send an Idempotency-Key: a retried redemption then spends once."""
    return await write(
        hub,
        request,
        caller,
        body,
        201,
        lambda conn: profiling.redeem(hub, conn, customer_id, body.points, body.reason),
        customer_id=customer_id,
    )
