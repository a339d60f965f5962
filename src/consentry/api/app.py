"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

from consentry import __version__
from consentry.api import problems
from consentry.api.check_batch import CheckBatch
from consentry.api.cors import CollectionPointCors
from consentry.api.direct import DirectRoutes
from consentry.api.headers import PageHeaders
from consentry.api.limits import BodySizeLimit
from consentry.api.observability import RequestContext
from consentry.api.routes import (
    apps,
    centre,
    changes,
    checks,
    collection_points,
    confirm,
    consents,
    console,
    console_insights,
    customers,
    decisions,
    desk,
    erasures,
    events,
    evidence,
    health,
    offers,
    profiling,
    purposes,
    questions,
    webhooks,
)
from consentry.api.routes import insights as insights_routes
from consentry.services import apps as app_service
from consentry.services import (
    backups,
    confirmations,
    insight_counts,
    insights,
    key_rotation,
    retention,
)
from consentry.services import profiling as profiling_service
from consentry.services.hub import Hub
from consentry.services.metrics import STEP_FAILURES
from consentry.services.nats_mirror import NatsMirror
from consentry.services.webhook_worker import WebhookWorker

log = logging.getLogger("consentry.sequencer")

# A personal link to the preference centre carries its secret in the path: request lines in the
# access log show it as /p/… instead.
_LINK = re.compile(r"^/p/[A-Za-z0-9_-]+\.[0-9a-f]+")


class _RedactLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _LINK.sub("/p/…", a) if isinstance(a, str) else a for a in record.args
            )
        return True


RETENTION_LOCK = 0x72657465  # "rete"
# How often the loop looks whether the master key is due for rotation (it rotates every
# CONSENTRY_MASTER_KEY_ROTATE_DAYS; an hour late is no matter).
KEY_ROTATION_LOOK_SECONDS = 3600.0
# How often the loop sends double opt-in messages left unsent, and reminders.
CONFIRMATIONS_LOOK_SECONDS = 30.0


class SequencerLoop:
    """Integrates new evidence into the tree in the background, so that every acknowledged
    record has its ``seq`` within one second, and gives new outbox changes their feed
    positions; also writes the buffered access log, and runs the retention policies every
    ``retention_interval`` seconds."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sequencer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def steps(self) -> list[tuple[str, Callable[[], object]]]:
        """What each run does, in order."""
        return [
            # Another process's loop may be at it: it does the work, this one runs again soon.
            ("evidence", lambda: self.hub.sequencer.integrate_all(wait=False)),
            ("outbox", lambda: self.hub.outbox.integrate_all(wait=False)),
            ("insights", lambda: insights.count_new(self.hub)),
            ("access log", self.hub.access.flush),
            ("checkpoint", self._checkpoint),
            ("key rotation", self._key_rotation),
            ("snapshots", self._snapshots),
            ("retention", self._retention),
            ("confirmations", self._confirmations),
        ]

    def _run(self) -> None:
        self._runs = 0
        # The first run waits a whole interval too: a restart does not start a sweep.
        self._retention_due = time.monotonic() + self.hub.settings.retention_interval
        self._levels_due = time.monotonic()  # a snapshot at start, then one an interval
        self._rotation_due = time.monotonic() + KEY_ROTATION_LOOK_SECONDS
        self._confirmations_due = time.monotonic() + CONFIRMATIONS_LOOK_SECONDS
        steps = self.steps()
        while not self._stop.wait(self.hub.settings.sequencer_interval):
            self._runs += 1
            # Each step on its own: one that fails (a passing database error, a bug, a row
            # it cannot read) never stops the others, and is tried again next run.
            for name, step in steps:
                try:
                    step()
                except Exception as exc:
                    STEP_FAILURES.labels(name).inc()
                    log.warning(
                        "background step %s failed (%s); retrying", name, type(exc).__name__
                    )

    def _confirmations(self) -> None:
        """Double opt-in messages a crash or a mail server kept from going, and reminders."""
        if time.monotonic() < self._confirmations_due:
            return
        self._confirmations_due = time.monotonic() + CONFIRMATIONS_LOOK_SECONDS
        confirmations.send_unsent(self.hub, older_than_seconds=CONFIRMATIONS_LOOK_SECONDS)
        confirmations.remind_due(self.hub)

    def _key_rotation(self) -> None:
        if time.monotonic() < self._rotation_due:
            return
        self._rotation_due = time.monotonic() + KEY_ROTATION_LOOK_SECONDS
        key_rotation.rotate_if_due(self.hub)

    def _checkpoint(self) -> None:
        if self._runs % 5 == 0:
            self.hub.db.checkpoint()

    def _snapshots(self) -> None:
        if time.monotonic() < self._levels_due:
            return
        self._levels_due = time.monotonic() + self.hub.settings.retention_interval
        with self.hub.db.try_exclusive("insights", insights.SNAPSHOT_LOCK) as mine:
            if mine:  # one process's snapshot is enough
                insights.snapshot_levels(self.hub)
                insight_counts.snapshot(self.hub, profiling_service.rules(self.hub))

    def _retention(self) -> None:
        if time.monotonic() < self._retention_due:
            return
        self._retention_due = time.monotonic() + self.hub.settings.retention_interval
        with self.hub.db.try_exclusive("retention", RETENTION_LOCK) as mine:
            if mine:  # one process is enough: the others skip this run
                retention.run(self.hub)


# The check comes first: routes are matched in order, and it is the hot path.
ROUTERS = (
    checks,
    health,
    apps,
    purposes,
    customers,
    consents,
    evidence,
    events,
    questions,
    profiling,
    offers,
    decisions,
    changes,
    webhooks,
    erasures,
    insights_routes,
    collection_points,
    confirm,
    centre,
    desk,
    console,
    console_insights,
)


def create_app(hub: Hub, *, run_sequencer: bool = True) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # SQLite's one writer thread gives up the GIL on every database call; with the default
        # 5 ms switch interval it then waits behind the busy event loop for up to 5 ms each
        # time. Not on PostgreSQL: there twenty writer threads share the GIL, and switching
        # that often cost more than it saved (consent changes 799 / 745 per s with it,
        # 926 / 910 without, checks the same within noise; A/B pairs of 2026-12-05,
        # bench/results/ab_write_pg_switch.json and ab_check_pg_switch.json).
        # A database restored from a backup older than some erasures must not serve those
        # customers for one request: the restore's replay runs first (services/backups).
        missed = await asyncio.to_thread(backups.outstanding, hub)
        if missed:
            raise RuntimeError(
                f"{len(missed)} customers erased since this database's backup are back in it: "
                "run `consentry replay-erasures` before serving"
            )
        if hub.db.is_sqlite:
            sys.setswitchinterval(0.0002)
        hub.db.start_writer()
        hub.checks.warm()
        await hub.quick.open_async()
        loop = SequencerLoop(hub) if run_sequencer else None
        # Webhooks go out from the server process itself unless `consentry worker`s do it.
        worker = WebhookWorker(hub) if run_sequencer and hub.settings.webhook_delivery else None
        mirror = (
            NatsMirror(hub, hub.settings.nats_url)
            if run_sequencer and hub.settings.nats_url
            else None
        )
        for background in (loop, worker, mirror):
            if background:
                background.start()
        # What exists now (modules, routes, caches: some 180,000 objects) lives as long as the
        # process. Frozen, the collector stops walking it: a full collection took 70-90 ms
        # each time and set the checks' p99 (under load, one every few hundred milliseconds).
        gc.freeze()
        try:
            yield
        finally:
            await _app.state.check_batch.close()
            await hub.quick.close_async()
            if mirror:
                mirror.stop()
            if worker:
                worker.stop()
            if loop:
                loop.stop()

    app = FastAPI(
        title="Consentry",
        version=__version__,
        summary="Consent and preference hub: the integration API.",
        lifespan=lifespan,
        # FastAPI's own /docs and /redoc load their scripts from a CDN: blank without internet.
        docs_url=None,
        redoc_url=None,
    )
    app.state.hub = hub
    app.state.check_batch = CheckBatch(hub)
    access_log = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _RedactLinks) for f in access_log.filters):
        access_log.addFilter(_RedactLinks())
    if hub.settings.admin_key:
        app_service.ensure_admin(hub, hub.settings.admin_key)
    problems.install(app)
    for module in ROUTERS:
        app.include_router(module.router)
    # The pages' own script (htmx) and style sheet, served by the app itself: no CDN.
    app.mount("/static", StaticFiles(packages=[("consentry.api", "static")]), name="static")
    # The API docs' Swagger UI (5.x: it reads OpenAPI 3.1, which FastAPI writes) from a pinned
    # package that ships its files (fastapi-swagger; only its files are used), also no CDN.
    app.mount(
        "/docs-assets",
        StaticFiles(packages=[("fastapi_swagger", "resources")]),
        name="docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
    async def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Consentry — the integration API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )

    # Inside the direct routes: the check never passes through it.
    app.add_middleware(CollectionPointCors, hub=hub)
    # The hot routes straight to their handlers (api/direct), inside the body-size limit.
    app.add_middleware(DirectRoutes, fastapi=app)
    app.add_middleware(BodySizeLimit, max_bytes=hub.settings.max_body_bytes)
    app.add_middleware(PageHeaders)
    app.add_middleware(RequestContext)  # outermost: it times and counts every answer
    return app
