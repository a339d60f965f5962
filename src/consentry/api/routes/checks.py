from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from consentry.api.deps import ConsentsRead, HubDep, bearer
from consentry.api.json_route import JsonRoute
from consentry.domain.errors import InvalidInput
from consentry.schemas.consents import BatchCheck, BatchCheckOut, CheckOut
from consentry.services import checks

router = APIRouter(route_class=JsonRoute, prefix="/v1/check", tags=["checks"])


_QUERY = [
    ("customer", True, "The customer's id (cus_…).", "cus_4x8k2m9q1w3e5r7t9y1u3i5o7p"),
    ("purpose", True, "The purpose's id.", "newsletter"),
    ("channel", False, "The channel; omitted, the all-channel record decides.", "email"),
]


@router.get(
    "",
    response_model=CheckOut,
    openapi_extra={
        "security": [{"HTTPBearer": []}],
        "parameters": [
            {
                "name": n,
                "in": "query",
                "required": r,
                "description": d,
                "schema": {"type": "string"},
                "example": e,
            }
            for n, r, d, e in _QUERY
        ],
    },
)
async def check(request: Request) -> Response:
    """May this purpose be pursued for this customer on this channel, now? (consents:read)

    The hot path: it reads its query by hand and runs on the event loop with one short read,
    authentication included — FastAPI's parameter machinery and a thread-pool hop would cost
    more than the check itself. Checks arriving together share that read (api/check_batch).
    Requests reach it past FastAPI's routing (api/direct)."""
    query = request.query_params
    missing = [name for name, required, _, _ in _QUERY if required and not query.get(name)]
    if missing:
        raise InvalidInput(
            f"the query needs {' and '.join(missing)}",
            [{"loc": ["query", name], "msg": "Field required"} for name in missing],
        )
    answer = await request.app.state.check_batch.check(
        (bearer(request), query["customer"], query["purpose"], query.get("channel") or None)
    )
    return Response(orjson.dumps(answer), media_type="application/json")


@router.post("/batch", response_model=BatchCheckOut)
def batch_check(hub: HubDep, caller: ConsentsRead, body: BatchCheck) -> Response:
    """Split up to 100,000 customers into allowed, denied and unknown: a suppression list."""
    answer = checks.batch_check(hub, caller, body.purpose, body.channel, body.customers)
    return Response(orjson.dumps(answer), media_type="application/json")
