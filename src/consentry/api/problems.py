"""Every error as an RFC 9457 problem document, mapped in one place."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.responses import Response

from consentry.api.pages import PageAnswer
from consentry.domain.errors import DomainError
from consentry.services.failures import database_unavailable, transient_conflict

PROBLEM_BASE = "https://consentry.dev/problems/"
log = logging.getLogger("consentry.api")


def problem(
    status: int,
    title: str,
    detail: str,
    slug: str,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def _validation_errors(exc: RequestValidationError) -> tuple[int, str, list[dict[str, Any]]]:
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return (
                400,
                "the body is not valid JSON: " + str(err.get("msg")),
                [{"loc": list(err.get("loc", ())), "msg": str(err.get("msg"))}],
            )
        errors.append({"loc": list(err.get("loc", ())), "msg": str(err.get("msg"))})
    first = errors[0] if errors else {"loc": [], "msg": "invalid"}
    where = ".".join(str(p) for p in first["loc"])
    return 422, f"{where}: {first['msg']}", errors


def install(app: FastAPI) -> None:
    @app.exception_handler(PageAnswer)
    async def _page_answer(_request: Request, exc: PageAnswer) -> Response:
        return exc.response

    @app.exception_handler(DomainError)
    async def _domain(_request: Request, exc: DomainError) -> Response:
        retry = exc.slug in ("not-yet-integrated", "idempotency-in-progress")
        headers = {"Retry-After": "1"} if retry else None
        return problem(exc.status, exc.title, exc.detail, exc.slug, exc.errors, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> Response:
        status, detail, errors = _validation_errors(exc)
        title = "Malformed JSON" if status == 400 else "Invalid input"
        return problem(
            status, title, detail, "malformed-json" if status == 400 else "invalid-input", errors
        )

    @app.exception_handler(HTTPException)
    async def _http(_request: Request, exc: HTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Body too large"}
        return problem(
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail),
            {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error"),
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_request: Request, _exc: IntegrityError) -> Response:
        # A uniqueness race lost to a concurrent writer: nothing was written; retrying is safe.
        return problem(
            409, "Conflict", "a concurrent request changed the same data; retry", "conflict"
        )

    @app.exception_handler(DataError)
    @app.exception_handler(psycopg.DataError)  # raised through the driver's own cursors
    async def _unstorable(_request: Request, exc: Exception) -> Response:
        # The database refused a value the request carried (PostgreSQL takes no NUL in text,
        # no number out of its column's range): the request's fault, and nothing was written.
        log.info("value refused by the database: %s", type(getattr(exc, "orig", exc)).__name__)
        return problem(
            422,
            "Invalid input",
            "a value in the request cannot be stored (a NUL character in text, or a number "
            "out of range)",
            "invalid-input",
        )

    @app.exception_handler(PoolTimeout)
    async def _pool_exhausted(_request: Request, _exc: PoolTimeout) -> Response:
        # Every pooled connection is busy (the database answers slowly or not at all).
        log.warning("database unavailable: no free connection")
        return problem(
            503,
            "Service unavailable",
            "the database did not answer in time; retry shortly",
            "database-unavailable",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(psycopg.OperationalError)
    async def _database_unavailable(request: Request, exc: Exception) -> Response:
        # The database did not answer (restarting, failing over, unreachable; SQLite locked
        # for longer than the busy timeout): worth a retry, not a bug. Other operational
        # errors (SQLite's "no such table"...) are bugs: 500. A commit cut off may or may
        # not have landed: with the same Idempotency-Key the retry is applied once either way.
        if transient_conflict(exc):
            # Still a deadlock or serialization failure after the server's own retries
            # (Database.transact): nothing was written, and the client may retry.
            return problem(
                409,
                "Conflict",
                "a concurrent request changed the same data; retry",
                "conflict",
                headers={"Retry-After": "1"},
            )
        if not database_unavailable(exc):
            return await _unexpected(request, exc)
        log.warning("database unavailable: %s", type(exc).__name__)
        return problem(
            503,
            "Service unavailable",
            "the database did not answer; retry shortly (a write with an Idempotency-Key "
            "is applied once, however often it is retried)",
            "database-unavailable",
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> Response:
        log.error("unexpected error: %s", type(exc).__name__, exc_info=exc)
        return problem(
            500, "Internal error", "the server failed; nothing was written", "internal-error"
        )
