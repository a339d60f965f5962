from __future__ import annotations

import asyncio

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from consentry.api.deps import AnyApp, ConsentsRead, EvidenceRead, HubDep
from consentry.api.json_route import JsonRoute, json_answer
from consentry.schemas.evidence import (
    ConsistencyProofOut,
    InclusionProofOut,
    ReceiptBundleOut,
    TreeHeadOut,
)
from consentry.services import evidence

router = APIRouter(route_class=JsonRoute, tags=["evidence"])


@router.get("/v1/evidence/head", response_model=TreeHeadOut)
def tree_head(hub: HubDep, _caller: AnyApp) -> object:
    """The signed tree head; it covers every record acknowledged before the request."""
    return evidence.head(hub).as_json()


@router.get(
    "/v1/evidence/checkpoint",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def checkpoint(hub: HubDep, _caller: AnyApp) -> Response:
    """The signed head in the open format of transparency logs: a C2SP checkpoint
    (c2sp.org/tlog-checkpoint: origin, size, base64 root hash) signed as a C2SP signed note with
    the log's Ed25519 key; tools written for Go's sumdb and Sigstore read it. It covers every
    record acknowledged before the request, as the JSON head does."""
    return PlainTextResponse(evidence.checkpoint(hub))


@router.post(
    "/v1/evidence/cosignatures",
    openapi_extra={"requestBody": {"content": {"text/plain": {}}, "required": True}},
)
async def add_cosignatures(hub: HubDep, request: Request) -> Response:
    """A witness's cosignature (c2sp.org/tlog-cosignature): the checkpoint as served, with the
    witness's signature lines added. No key is needed: the hub keeps only cosignatures that
    verify against the witness keys it is configured with (CONSENTRY_WITNESSES), on a
    checkpoint it signed itself; anything else is refused (403), a malformed note too (422)."""
    body = await request.body()
    return json_answer(await asyncio.to_thread(evidence.add_cosignatures, hub, body))


@router.get(
    "/v1/evidence/checkpoint-key",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def checkpoint_key(hub: HubDep) -> Response:
    """The verifier key of the checkpoints (c2sp.org/signed-note: name+key ID+base64 key);
    public, like the JWKS."""
    return PlainTextResponse(evidence.checkpoint_key(hub) + "\n")


@router.get("/v1/evidence/records/{record_id}/proof", response_model=InclusionProofOut)
def inclusion_proof(
    hub: HubDep, _caller: AnyApp, record_id: str, size: int | None = Query(None, ge=1)
) -> object:
    return evidence.inclusion_proof(hub, record_id, size)


@router.get("/v1/evidence/consistency", response_model=ConsistencyProofOut)
def consistency_proof(
    hub: HubDep,
    _caller: AnyApp,
    from_size: int = Query(alias="from", ge=0),
    to_size: int = Query(alias="to", ge=0),
) -> object:
    return evidence.consistency_proof(hub, from_size, to_size)


@router.get(
    "/v1/evidence/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}}}},
)
def export_log(
    hub: HubDep,
    _caller: EvidenceRead,
    start: int = Query(0, alias="from", ge=0, description="The first seq to give."),
    end: int | None = Query(None, alias="to", ge=0, description="Stop before this seq."),
) -> StreamingResponse:
    """(evidence:read) The whole log, one leaf a line in ``seq`` order, up to the current signed
    head (whose size and root are in the ``Consentry-Tree-Size`` and ``Consentry-Root-Hash``
    headers). ``from`` and ``to`` give a part of it: a monitor keeping a copy fetches only what
    is new."""
    head, stop = evidence.export_range(hub, start, end)
    return StreamingResponse(
        evidence.export_lines(hub, stop, start),
        media_type="application/x-ndjson",
        headers={"Consentry-Tree-Size": str(head.size), "Consentry-Root-Hash": head.root_hash},
    )


@router.get("/v1/receipts/{record_id}", responses={200: {"content": {"application/jose": {}}}})
def consent_receipt(hub: HubDep, caller: ConsentsRead, record_id: str) -> Response:
    """A compact JWS (EdDSA) the customer can keep as proof of what they agreed to."""
    return Response(evidence.receipt(hub, caller, record_id), media_type="application/jose")


@router.get("/v1/receipts/{record_id}/bundle", response_model=ReceiptBundleOut)
def receipt_bundle(hub: HubDep, caller: ConsentsRead, record_id: str) -> Response:
    """The receipt with its offline proof: ``receipt`` (the JWS above) and ``tlog_proof`` (a
    c2sp.org/tlog-proof: the record's leaf as extra data, its index, its inclusion proof and the
    checkpoint, with witnesses' cosignatures, that holds it). It verifies years later with the
    JWKS alone: ``consentry receipt verify``."""
    return json_answer(evidence.receipt_bundle(hub, caller, record_id))


@router.get("/.well-known/jwks.json", tags=["evidence"])
def jwks(hub: HubDep) -> Response:
    """The public keys that verify tree heads and receipts."""
    return Response(orjson.dumps(hub.signer.jwks()), media_type="application/json")
