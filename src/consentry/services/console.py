"""The console: the privacy and marketing teams run the hub from the browser.

Every change made here goes through the same services as the API and is recorded, in the
same transaction, as a console action (who, when, what); a key or a password never is.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from consentry.audit.verify import verify_export
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.domain.clock import rfc3339_micros
from consentry.domain.console import DiffPart, Permission, may, notice_diff
from consentry.domain.errors import Forbidden, InvalidInput, NotFound
from consentry.domain.ids import new_id
from consentry.domain.staff import StaffMember
from consentry.schemas.purposes import PurposeCreate, PurposeUpdate
from consentry.services import (
    apps,
    catalogue,
    catalogue_file,
    checkpoints,
    collection_points,
    desk,
    erasures,
    evidence,
    purposes,
    question_file,
    questions,
    web_access,
    webhooks,
)
from consentry.services.hub import Hub
from consentry.services.web_access import WebSession
from consentry.store import console as store
from consentry.store import erasures as erasure_store
from consentry.store import staff as staff_store

DAY = 86_400_000_000
PROGRESS_EVERY = 2_000  # records between progress updates of a verification
STALLED = 3_600_000_000  # a verification unfinished after an hour has stopped (its process did)


def member(hub: Hub, session: WebSession) -> StaffMember | None:
    """The signed-in staff member, while the account is enabled and has a console role."""
    found = desk.staff_of(hub, session)
    return found if found is not None and found.console_role is not None else None


def require(who: StaffMember, permission: Permission) -> None:
    if not may(who.console_role, permission):
        raise Forbidden(f"the role {who.console_role} may not do this ({permission.value})")


def _record(
    hub: Hub, conn: Connection, who: StaffMember, action: str, target: str, **detail: Any
) -> None:
    assert who.console_role is not None
    store.record_action(
        conn,
        at=hub.now_micros(),
        staff_id=who.id,
        username=who.username,
        role=who.console_role,
        action=action,
        target=target,
        detail=detail,
    )


def signed_in(hub: Hub, who: StaffMember) -> None:
    with hub.db.write() as conn:
        _record(hub, conn, who, "signed_in", who.username)


# -- purposes and notices


@dataclass(frozen=True)
class NoticeView:
    version: int
    title: str
    description: str
    published_at: str
    reconsent: bool
    granted: int | None  # customers whose grant is on this version; None: fewer than k
    title_diff: list[DiffPart]  # against the version before (empty for the first)
    description_diff: list[DiffPart]


def purpose_list(hub: Hub, who: StaffMember) -> list[dict[str, Any]]:
    require(who, Permission.VIEW)
    return list(purposes.list_page(hub, None, 1000)["purposes"])


def purpose_detail(
    hub: Hub, who: StaffMember, purpose_id: str
) -> tuple[dict[str, Any], list[NoticeView]]:
    """The purpose and its notice versions, newest first, each with what changed and how many
    customers gave their grant under it (a count under k is not shown)."""
    require(who, Permission.VIEW)
    detail = purposes.get(hub, purpose_id)
    with hub.db.read() as conn:
        counts = store.granted_per_version(conn, purpose_id)
    k = hub.settings.insights_k
    views: list[NoticeView] = []
    before: dict[str, Any] | None = None
    for notice in detail["notices"]:
        n = counts.get(notice["version"], 0)
        views.append(
            NoticeView(
                notice["version"],
                notice["title"],
                notice["description"],
                notice["published_at"],
                notice["reconsent"],
                n if n >= k or n == 0 else None,
                notice_diff(before["title"], notice["title"]) if before else [],
                notice_diff(before["description"], notice["description"]) if before else [],
            )
        )
        before = notice
    return detail, list(reversed(views))


def create_purpose(hub: Hub, who: StaffMember, body: PurposeCreate) -> dict[str, Any]:
    require(who, Permission.EDIT_PURPOSES)
    with hub.db.write() as conn:
        created = purposes.create(hub, conn, body)
        _record(hub, conn, who, "purpose.created", body.id, title=body.title)
    return created


def publish_notice(
    hub: Hub, who: StaffMember, purpose_id: str, title: str, description: str, reconsent: bool
) -> dict[str, Any]:
    """A new notice version (when the words changed)."""
    require(who, Permission.EDIT_PURPOSES)
    body = PurposeUpdate(title=title, description=description, reconsent=reconsent)
    with hub.db.write() as conn:
        before = purposes.require(conn, purpose_id)
        updated = purposes.update(hub, conn, purpose_id, body)
        if updated["version"] == before.version:
            raise InvalidInput("the notice is unchanged: change its title or text to publish")
        _record(
            hub,
            conn,
            who,
            "notice.published",
            purpose_id,
            version=updated["version"],
            reconsent=reconsent,
        )
    return updated


# -- questions and offers


@dataclass(frozen=True)
class FileKind:
    """What an uploaded file is: who may load it, how, and what the activity log calls it."""

    permission: Permission
    load: Callable[[Hub, Path], tuple[dict[str, int], list[str]]]
    action: str


QUESTION_FILE = FileKind(Permission.EDIT_QUESTIONS, question_file.load_file, "questions.loaded")
CATALOGUE_FILE = FileKind(Permission.EDIT_OFFERS, catalogue_file.load_file, "catalogue.loaded")
POINTS_FILE = FileKind(
    Permission.EDIT_PURPOSES, collection_points.load_file, "collection_points.loaded"
)


def load_file(
    hub: Hub, who: StaffMember, kind: FileKind, name: str, content: bytes
) -> tuple[dict[str, int], list[str]]:
    """An uploaded question or catalogue file, all or nothing (as `consentry questions load`
    and `consentry catalogue load`): the counts, or every problem by line."""
    require(who, kind.permission)
    counts, problems = _load_upload(hub, content, name, kind.load)
    if not problems:
        with hub.db.write() as conn:
            _record(hub, conn, who, kind.action, name[:200], **counts)
    return counts, problems


def _load_upload(
    hub: Hub,
    content: bytes,
    name: str,
    load: Callable[[Hub, Path], tuple[dict[str, int], list[str]]],
) -> tuple[dict[str, int], list[str]]:
    # The file readers name problems by line from a file; the upload becomes one for a moment.
    with tempfile.TemporaryDirectory(prefix="consentry-upload-") as folder:
        path = Path(folder) / (Path(name).name or "upload.yaml")
        path.write_bytes(content)
        return load(hub, path)


def retire_question(hub: Hub, who: StaffMember, question_id: str) -> None:
    require(who, Permission.EDIT_QUESTIONS)
    with hub.db.write() as conn:
        questions.retire(hub, conn, question_id)
        _record(hub, conn, who, "question.retired", question_id)


def retire_offer(hub: Hub, who: StaffMember, offer_id: str) -> None:
    require(who, Permission.EDIT_OFFERS)
    with hub.db.write() as conn:
        catalogue.retire_offer(hub, conn, offer_id)
        _record(hub, conn, who, "offer.retired", offer_id)


# -- apps and keys


def app_list(hub: Hub, who: StaffMember) -> list[dict[str, Any]]:
    require(who, Permission.VIEW_APPS)
    return list(apps.list_page(hub, None, 1000)["apps"])


def create_app(
    hub: Hub, who: StaffMember, name: str, scopes: list[str], purpose_ids: list[str]
) -> dict[str, Any]:
    """The new app with its key: the only time anyone sees the key."""
    require(who, Permission.MANAGE_APPS)
    if not name.strip():
        raise InvalidInput("name the app")
    if not scopes:
        raise InvalidInput("choose at least one scope")
    if Scope.ADMIN.value in scopes:
        raise InvalidInput("the console does not make admin keys: use CONSENTRY_ADMIN_KEY")
    with hub.db.write() as conn:
        created = apps.create(hub, conn, name.strip(), scopes, purpose_ids)
        _record(hub, conn, who, "app.created", created["id"], name=created["name"], scopes=scopes)
    return created


def revoke_app(hub: Hub, who: StaffMember, app_id: str) -> dict[str, Any]:
    require(who, Permission.MANAGE_APPS)
    with hub.db.write() as conn:
        revoked = apps.revoke(hub, conn, app_id)
        _record(hub, conn, who, "app.revoked", app_id, name=revoked["name"])
    return revoked


# -- webhooks


# The console's staff look after every app's endpoints.
_CONSOLE = Caller("console", "console", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))


def _origin(url: str) -> str:
    """Scheme, host and port only: a receiver's path and query often carry its token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


def webhook_health(hub: Hub, who: StaffMember) -> list[dict[str, Any]]:
    """Every endpoint's health; the full URL only for those who manage webhooks."""
    require(who, Permission.VIEW)
    endpoints = webhooks.list_endpoints(hub, _CONSOLE)
    if not may(who.console_role, Permission.MANAGE_WEBHOOKS):
        endpoints = [{**e, "url": _origin(e["url"])} for e in endpoints]
    return endpoints


def enable_webhook(hub: Hub, who: StaffMember, endpoint_id: str) -> None:
    require(who, Permission.MANAGE_WEBHOOKS)
    with hub.db.write() as conn:
        webhooks.enable_endpoint(hub, conn, _CONSOLE, endpoint_id)
        _record(hub, conn, who, "webhook.enabled", endpoint_id)


# -- staff


def staff_list(hub: Hub, who: StaffMember) -> list[StaffMember]:
    require(who, Permission.MANAGE_STAFF)
    with hub.db.read() as conn:
        return staff_store.everyone(conn)


def add_staff(
    hub: Hub,
    who: StaffMember,
    username: str,
    display_name: str,
    password: str,
    desk_name: str | None,
    location: str | None,
    role: str | None,
) -> StaffMember:
    require(who, Permission.MANAGE_STAFF)
    with hub.db.write() as conn:
        row = desk.insert_staff(
            hub, conn, username, display_name, password, desk_name, location, role
        )
        _record(
            hub, conn, who, "staff.added", username, desk=desk_name, location=location, role=role
        )
    return row


def disable_staff(hub: Hub, who: StaffMember, staff_id: str) -> None:
    require(who, Permission.MANAGE_STAFF)
    if staff_id == who.id:
        raise InvalidInput("you cannot disable your own account")
    with hub.db.write() as conn:
        target = staff_store.get(conn, staff_id)
        if target is None:
            raise NotFound(f"no staff member {staff_id!r}")
        if target.disabled_at is None:
            staff_store.disable(conn, staff_id, hub.now_micros())
            _record(hub, conn, who, "staff.disabled", target.username)


# -- the evidence log


@dataclass(frozen=True)
class Verification:
    id: str
    started_at: str
    started_by: str
    size: int
    checked: int
    finished: bool
    ok: bool | None
    problems: list[str]
    stopped: bool = False  # unfinished after an hour: the process running it ended

    @property
    def percent(self) -> int:
        return 100 if self.size == 0 else min(100, self.checked * 100 // self.size)


def _verification(row: Any, now: int) -> Verification:
    return Verification(
        row.id,
        rfc3339_micros(row.started_at),
        row.started_by,
        row.size,
        row.checked,
        row.finished_at is not None,
        row.ok,
        list(row.problems),
        row.finished_at is None and row.started_at <= now - STALLED,
    )


def verifications(hub: Hub, who: StaffMember, limit: int = 5) -> list[Verification]:
    require(who, Permission.VIEW)
    with hub.db.read() as conn:
        rows = store.latest_verifications(conn, limit)
    return [_verification(r, hub.now_micros()) for r in rows]


def verification(hub: Hub, who: StaffMember, verification_id: str) -> Verification:
    require(who, Permission.VIEW)
    with hub.db.read() as conn:
        row = store.verification(conn, verification_id)
    if row is None:
        raise NotFound(f"no verification {verification_id!r}")
    return _verification(row, hub.now_micros())


def start_verification(hub: Hub, who: StaffMember) -> str:
    """Re-check the whole log against the current signed head, in the background: every leaf
    rehashed from its fields, the root rebuilt, the head's signature checked (the same checks
    as `consentry evidence verify` on an export). Returns its id; progress is stored."""
    require(who, Permission.VERIFY_EVIDENCE)
    head = evidence.head(hub)
    verification_id = new_id("vrf")
    now = hub.now_micros()
    with hub.db.write() as conn:
        # One at a time: a second click while one runs (started within the hour) watches it.
        for running in store.latest_verifications(conn, 1):
            if running.finished_at is None and running.started_at > now - STALLED:
                return str(running.id)
        store.start_verification(conn, verification_id, now, who.username, head.size)
        _record(hub, conn, who, "evidence.verification_started", verification_id, size=head.size)
    threading.Thread(
        target=_verify, args=(hub, verification_id, head.as_json()), daemon=True
    ).start()
    return verification_id


def _verify(hub: Hub, verification_id: str, head: dict[str, Any]) -> None:
    checked = 0
    last_saved = time.monotonic()

    def counted() -> Any:
        nonlocal checked, last_saved
        for line in evidence.export_lines(hub, int(head["size"])):
            checked += 1
            if checked % PROGRESS_EVERY == 0 and time.monotonic() - last_saved > 0.2:
                with hub.db.write() as conn:
                    store.verification_progress(conn, verification_id, checked)
                last_saved = time.monotonic()
            yield line

    try:
        verdict = verify_export(counted(), head, hub.signer.jwks())
        ok, problems = verdict.ok, verdict.problems[:20]
    except Exception as exc:  # the database went away: say so instead of hanging at n %
        ok, problems = False, [f"the verification stopped: {type(exc).__name__}"]
    with hub.db.write() as conn:
        store.finish_verification(conn, verification_id, hub.now_micros(), checked, ok, problems)


# -- requests, activity, overview


def erasure_list(hub: Hub, who: StaffMember, limit: int = 50) -> list[dict[str, Any]]:
    require(who, Permission.VIEW)
    with hub.db.read() as conn:
        ids = erasure_store.recent_ids(conn, limit)
        return [erasures.erasure_json(hub, conn, i) for i in ids]


def exports_by_app(hub: Hub, who: StaffMember, days: int = 30) -> list[tuple[str, int]]:
    """Exports are given at once (there is no queue): how many each app fetched lately."""
    require(who, Permission.VIEW)
    with hub.db.read() as conn:
        return store.exports_by_app(conn, hub.now_micros() - days * DAY)


@dataclass(frozen=True)
class Action:
    pk: int
    at: str
    username: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]


def activity(hub: Hub, who: StaffMember, before: int | None, limit: int = 50) -> list[Action]:
    require(who, Permission.VIEW)
    with hub.db.read() as conn:
        rows = store.actions(conn, before, limit)
    return [
        Action(r.pk, rfc3339_micros(r.at), r.username, r.role, r.action, r.target, r.detail)
        for r in rows
    ]


def overview(hub: Hub, who: StaffMember) -> dict[str, Any]:
    require(who, Permission.VIEW)
    head = evidence.latest_head(hub)
    with hub.db.read() as conn:
        latest = store.latest_verifications(conn, 1)
        pending = erasure_store.pending_ids(conn, 1000)
    endpoints = webhooks.list_endpoints(hub, _CONSOLE)
    return {
        "head": head,
        "verification": _verification(latest[0], hub.now_micros()) if latest else None,
        "purposes": len(purposes.list_page(hub, None, 1000)["purposes"]),
        "erasures_pending": len(pending),
        "webhooks": len(endpoints),
        "webhooks_disabled": sum(1 for e in endpoints if not e["active"]),
        "witnesses": checkpoints.witness_status(hub),
        "witness_lag_minutes": hub.settings.witness_lag_seconds // 60,
    }


def end(hub: Hub, token: str) -> None:
    web_access.end_session(hub, token, console=True)
