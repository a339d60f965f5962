"""``consentry.client``: a typed Python client for the Consentry API (httpx; sync and async).

    from consentry.client import Consentry

    with Consentry("http://127.0.0.1:8000", key="csk_…") as hub:
        if hub.check(customer_id, "newsletter", "email")["allowed"]:
            ...
        for page in hub.iter_pages(after=saved_cursor):   # follows the change feed
            handle(page["changes"]); save(page["next"])

    async with AsyncConsentry(url, key=key) as hub:
        decision = await hub.decide(customer_id, "in_app")

Every write carries an Idempotency-Key (a fresh one unless you give one), so calls are retried
safely on connection errors, 429 and 502/503/504, with back-off. A problem document answer
raises :class:`ConsentryError` with its status, title and detail. Webhooks you receive are
checked with :func:`verify_webhook`.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
from standardwebhooks import Webhook, WebhookVerificationError

from consentry.client.api import JSON, Api, Call
from consentry.client.watch import BadCheckpoint, ForkDetected, LogWatch, ProofNeeded
from consentry.domain.notes import NoteKey

__all__ = [
    "AsyncConsentry",
    "BadCheckpoint",
    "Consentry",
    "ConsentryError",
    "ForkDetected",
    "LogWatch",
    "WebhookVerificationError",
    "verify_webhook",
    "webhook_checkpoint",
]

RETRY_STATUS = frozenset({429, 502, 503, 504})
# A 409 is retried only when the first request with the same Idempotency-Key is still being
# processed (its answer is then replayed); other conflicts are the caller's to resolve.
IN_PROGRESS = "/idempotency-in-progress"


def _worth_retrying(response: httpx.Response) -> bool:
    if response.status_code in RETRY_STATUS:
        return True
    return (
        response.status_code == 409
        and str(response.headers.get("content-type", "")).startswith("application/problem+json")
        and str(response.json().get("type", "")).endswith(IN_PROGRESS)
    )


class ConsentryError(Exception):
    """The API answered with a problem document."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.title = str(problem.get("title", ""))
        self.detail = str(problem.get("detail", ""))
        super().__init__(f"{status} {self.title}: {self.detail}")


def verify_webhook(secret: str, body: bytes | str, headers: dict[str, str]) -> Any:
    """The webhook's JSON body if its Standard Webhooks signature is right and recent;
    ``WebhookVerificationError`` otherwise."""
    return Webhook(secret).verify(body, headers)


CHECKPOINT_HEADER = "consentry-checkpoint"


def webhook_checkpoint(headers: dict[str, str]) -> str | None:
    """The log checkpoint a webhook delivery carried (its ``consentry-checkpoint`` header), for
    ``client.observe_checkpoint``."""
    found = {k.lower(): v for k, v in headers.items()}.get(CHECKPOINT_HEADER)
    return base64.b64decode(found).decode() if found else None


def _proof(answer: Any) -> list[bytes]:
    return [bytes.fromhex(h) for h in answer["proof"]]


def _request_args(call: Call) -> dict[str, Any]:
    headers = {}
    if call.write:
        headers["Idempotency-Key"] = call.idempotency_key or f"client-{uuid.uuid4()}"
    args: dict[str, Any] = {"params": call.params, "headers": headers}
    if call.json is not None:
        args["json"] = call.json
    return args


def _result(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.reason_phrase, "detail": response.text[:500]}
        raise ConsentryError(response.status_code, problem)
    if response.status_code == 204 or not response.content:
        return None
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.text


def _delay(attempt: int) -> float:
    return float(min(0.2 * 2**attempt, 5.0))


class Consentry(Api[Any]):
    """The synchronous client."""

    def __init__(
        self,
        url: str,
        *,
        key: str,
        timeout: float = 10.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        log_key: str | None = None,
        witness_state: Path | None = None,
    ) -> None:
        self.retries = retries
        self.witness = LogWatch(log_key, witness_state)
        self._http = httpx.Client(
            base_url=url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
            transport=transport,
        )

    def _send(self, call: Call) -> Any:
        args = _request_args(call)  # the same Idempotency-Key on every retry
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(call.method, call.path, **args)
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
            else:
                if not _worth_retrying(response) or attempt == self.retries:
                    return _result(response)
            time.sleep(_delay(attempt))
        raise AssertionError("unreachable")

    def changes(self, *, after: str | None = None, limit: int = 1000, wait: float = 0) -> Any:
        """A page of the change feed; the log checkpoint it carries is checked against the
        last one seen (``self.witness``): ForkDetected if the log's history was rewritten."""
        page = super().changes(after=after, limit=limit, wait=wait)
        self.observe_checkpoint(page.get("checkpoint"))
        return page

    def observe_checkpoint(self, checkpoint: str | None) -> None:
        """Check a checkpoint the hub showed (a change page's, or a webhook's: see
        :func:`webhook_checkpoint`) against the last one seen, asking the hub for the
        consistency proof between them; ForkDetected if neither extends the other."""
        if not checkpoint:
            return
        if self.witness.log_key is None:
            self.witness.log_key = NoteKey.parse(self.checkpoint_key())
        needed = self.witness.examine(checkpoint)
        if isinstance(needed, ProofNeeded):
            proof = _proof(self.consistency_proof(needed.smaller, needed.larger))
            self.witness.settle(checkpoint, proof)

    def iter_pages(self, *, after: str | None = None, wait: float = 25) -> Iterator[JSON]:
        """Pages of the change feed after the cursor, forever (long-polling, so an empty page
        comes at most every ``wait`` seconds). Save a page's ``next`` once you have handled
        its ``changes``: it is where to resume, even after a restart."""
        cursor = after
        while True:
            page = self.changes(after=cursor, wait=wait)
            yield page
            cursor = page["next"]

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Consentry:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncConsentry(Api[Any]):
    """The asynchronous client: the same methods, awaited."""

    def __init__(
        self,
        url: str,
        *,
        key: str,
        timeout: float = 10.0,
        retries: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        log_key: str | None = None,
        witness_state: Path | None = None,
    ) -> None:
        self.retries = retries
        self.witness = LogWatch(log_key, witness_state)
        self._http = httpx.AsyncClient(
            base_url=url,
            headers={"Authorization": f"Bearer {key}"},
            timeout=timeout,
            transport=transport,
        )

    async def _run(self, call: Call) -> Any:
        args = _request_args(call)
        for attempt in range(self.retries + 1):
            try:
                response = await self._http.request(call.method, call.path, **args)
            except httpx.TransportError:
                if attempt == self.retries:
                    raise
            else:
                if not _worth_retrying(response) or attempt == self.retries:
                    return _result(response)
            await asyncio.sleep(_delay(attempt))
        raise AssertionError("unreachable")

    def _send(self, call: Call) -> Any:
        return self._run(call)

    async def changes(self, *, after: str | None = None, limit: int = 1000, wait: float = 0) -> Any:
        """As :meth:`Consentry.changes`."""
        page = await super().changes(after=after, limit=limit, wait=wait)
        await self.observe_checkpoint(page.get("checkpoint"))
        return page

    async def observe_checkpoint(self, checkpoint: str | None) -> None:
        """As :meth:`Consentry.observe_checkpoint`."""
        if not checkpoint:
            return
        if self.witness.log_key is None:
            self.witness.log_key = NoteKey.parse(await self.checkpoint_key())
        needed = self.witness.examine(checkpoint)
        if isinstance(needed, ProofNeeded):
            proof = _proof(await self.consistency_proof(needed.smaller, needed.larger))
            self.witness.settle(checkpoint, proof)

    async def iter_pages(
        self, *, after: str | None = None, wait: float = 25
    ) -> AsyncIterator[JSON]:
        """As :meth:`Consentry.iter_pages`."""
        cursor = after
        while True:
            page = await self.changes(after=cursor, wait=wait)
            yield page
            cursor = page["next"]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncConsentry:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
