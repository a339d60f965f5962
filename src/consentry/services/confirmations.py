"""Double opt-in: a grant from the web, an app or a collection point on a channel whose purpose
asks for confirmation is recorded as a request (``Action.REQUEST``, check reason
``unconfirmed``); a link goes to the address stored for the customer; the customer's POST on it
writes the grant, a second evidence record whose proof names the request it confirms.
Unconfirmed requests expire after the purpose's ``confirm_days``; one reminder at half-time.

The message is sent after the grant's transaction commits (``send_unsent``), and again by the
server's loop for any whose sending a crash interrupted: the token is kept sealed by the
customer's data key (erasure destroys it), and only its keyed hash looks it up."""

from __future__ import annotations

import logging
import secrets
import threading
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection

from consentry.domain.consent import ALL_CHANNELS, Source
from consentry.domain.purposes import Purpose
from consentry.services import purposes, web_access
from consentry.services.hub import Hub
from consentry.store import confirmations as store
from consentry.vault.errors import KeyGone

log = logging.getLogger(__name__)
DAY = 86_400_000_000
# Where a grant's address is not yet known to be the customer's: these wait for confirmation.
UNCONFIRMED_SOURCES = frozenset({Source.WEB, Source.APP})
_FIELD = "confirmation"


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY = "already"  # confirmed before (a second click)
    EXPIRED = "expired"
    REPLACED = "replaced"  # the customer chose again since (withdrew, say)
    INVALID = "invalid"


def needed(purpose: Purpose, channel: str | None, source: Source, *, at_point: bool) -> str | None:
    """How a grant must be confirmed (``"email"``), or None when it takes effect at once: a
    grant captured in person, imported or in the preference centre (a session the customer's
    own personal link opened) needs no second proof."""
    kind = purpose.confirmation_for(channel)
    if kind is None or not (at_point or source in UNCONFIRMED_SOURCES):
        return None
    return kind


def token_hash(hub: Hub, token: str) -> str:
    return hub.vault.blind("confirmation-link", token)


def open_request(
    hub: Hub,
    conn: Connection,
    customer_id: str,
    purpose: Purpose,
    channel: str | None,
    request_record: str,
    kind: str,
    asked_at: int,
) -> None:
    """Keep a confirmation for the request just written (in its transaction). Its link works
    as long as the request waits: ``confirm_days`` from when the customer asked (a capture an
    app posts later has less time left, as the request's status says)."""
    token = secrets.token_urlsafe(24)
    now = hub.now_micros()
    store.insert_confirmation(
        conn,
        token_hash=token_hash(hub, token),
        customer_id=customer_id,
        purpose=purpose.id,
        channel=channel or ALL_CHANNELS,
        request_record=request_record,
        kind=kind,
        token_sealed=hub.vault.seal(customer_id, _FIELD, token),
        created_at=now,
        expires_at=asked_at + purpose.confirm_days * DAY,
    )


def send_unsent(hub: Hub, customer_id: str | None = None, older_than_seconds: float = 0) -> int:
    """Send the messages of confirmations not sent yet; how many went out."""
    now = hub.now_micros()
    with hub.db.read() as conn:
        rows = store.unsent(
            conn,
            customer_id=customer_id,
            created_before=now - int(older_than_seconds * 1_000_000) + 1,
            now=now,
            limit=200,
        )
    return sum(_claim_and_send(hub, row, reminder=False) for row in rows)


def send_soon(hub: Hub, customer_id: str) -> None:
    """Send a customer's new confirmations on a thread of their own, after the answer: the
    server's loop sends any this misses (a crash, a mail server down)."""

    def run() -> None:
        try:
            send_unsent(hub, customer_id)
        except Exception as exc:  # the loop tries again; the request has its answer already
            log.warning("a confirmation was not sent yet (%s); retrying", type(exc).__name__)

    threading.Thread(target=run, name="confirmation-mail", daemon=True).start()


def remind_due(hub: Hub) -> int:
    """One reminder for each request unconfirmed at half its time; how many went out."""
    now = hub.now_micros()
    with hub.db.read() as conn:
        rows = store.due_reminders(conn, now - DAY // 2, now, 200)
    due = [r for r in rows if now >= r.created_at + (r.expires_at - r.created_at) // 2]
    return sum(_claim_and_send(hub, row, reminder=True) for row in due)


def _claim_and_send(hub: Hub, row: Any, *, reminder: bool) -> bool:
    """Claim the row (one process sends it), send, and give the claim back if sending fails."""
    now = hub.now_micros()
    mark = store.mark_reminded if reminder else store.mark_sent
    with hub.db.write() as conn:
        if not mark(conn, row.token_hash, now):
            return False
    try:
        token = hub.vault.unseal(row.customer_id, _FIELD, row.token_sealed)
        sent = _send(hub, row, token, reminder=reminder)
    except KeyGone:  # erased meanwhile: nothing to send, and the row goes with the customer
        return False
    except Exception:
        with hub.db.write() as conn:
            store.unmark(conn, row.token_hash, "reminded_at" if reminder else "sent_at")
        raise
    return sent


def _send(hub: Hub, row: Any, token: str, *, reminder: bool) -> bool:
    to = web_access.stored_email(hub, row.customer_id)
    if to is None:  # no address to confirm with: the request will expire
        log.info("a confirmation has no stored address to go to; it will expire")
        return False
    with hub.db.read() as conn:
        purpose = purposes.require(conn, row.purpose)
    url = f"{hub.settings.public_url.rstrip('/')}/c/{token}"
    message = EmailMessage()
    message["From"] = hub.settings.mail_from
    message["To"] = to
    again = "Reminder: " if reminder else ""
    message["Subject"] = f"{again}Please confirm: {purpose.title} / Bitte bestätigen"
    message.set_content(
        f"You asked {hub.settings.controller_name} for: {purpose.title}.\n"
        f"To confirm that this address is yours and that you want it, open:\n\n{url}\n\n"
        "If it was not you, do nothing: nothing is sent without your confirmation.\n\n"
        f"Sie haben bei {hub.settings.controller_name} angefragt: {purpose.title}.\n"
        "Bitte bestätigen Sie über den Link oben, dass diese Adresse Ihnen gehört.\n"
        "Wenn Sie das nicht waren, tun Sie nichts.\n"
    )
    web_access.mail_sender(hub).send(message, about=web_access.mail_tag(hub, row.customer_id))
    return True


def peek(hub: Hub, token: str) -> tuple[Any | None, Outcome | None]:
    """The confirmation a link names, and what would stop it (looked at, not used: a GET)."""
    with hub.db.read() as conn:
        row = store.get(conn, token_hash(hub, token))
    if row is None:
        return None, Outcome.INVALID
    if row.confirmed_at is not None:
        return row, Outcome.ALREADY
    if row.expires_at <= hub.now_micros():
        return row, Outcome.EXPIRED
    return row, None
