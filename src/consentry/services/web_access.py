"""Password-less access to the preference centre, and the sessions of the web pages.

A personal link carries a random token and an HMAC of it (a tampered link is refused without a
database read); only a keyed hash of the token is stored. A link works once and for
``link_days``: the first use exchanges it for a session (a cookie holding another random token,
also stored only as a keyed hash), so a link forwarded or found in a mail log later is useless.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection

from consentry.domain.clock import rfc3339_micros
from consentry.domain.errors import DomainError
from consentry.domain.identifiers import normalise_email
from consentry.mail import FileOutbox, MailSender, SmtpSender
from consentry.schemas.customers import CustomerLookup
from consentry.services import customers
from consentry.services.hub import Hub
from consentry.store import customers as customer_store
from consentry.store import web as store
from consentry.store.quick import CustomerStates

MINUTE = 60_000_000
DAY = 1440 * MINUTE


class LinkProblem(StrEnum):
    INVALID = "invalid"
    USED = "used"
    EXPIRED = "expired"
    GONE = "gone"  # the customer was erased


@dataclass(frozen=True)
class WebSession:
    token: str  # the cookie's value
    customer_id: str | None
    staff_id: str | None
    csrf: str
    expires_at: int


def _sign(hub: Hub, nonce: str) -> str:
    return hub.vault.blind("preference-link-signature", nonce)[:32]


def _hash(hub: Hub, kind: str, token: str) -> str:
    return hub.vault.blind(kind, token)


def create_link(hub: Hub, customer_id: str) -> dict[str, str]:
    now = hub.now_micros()
    expires = now + hub.settings.link_days * DAY
    nonce = secrets.token_urlsafe(24)
    token = f"{nonce}.{_sign(hub, nonce)}"
    with hub.db.write() as conn:
        customers.require_active(conn, customer_id)
        store.insert_link(conn, _hash(hub, "preference-link", token), customer_id, now, expires)
    return {
        "url": f"{hub.settings.public_url.rstrip('/')}/p/{token}",
        "expires_at": rfc3339_micros(expires),
    }


def _signed(hub: Hub, token: str) -> bool:
    """The token's HMAC is ours: a tampered link is refused without a database read."""
    nonce, _, signature = token.partition(".")
    return bool(nonce) and hmac.compare_digest(signature, _sign(hub, nonce))


def _problem(conn: Connection, row: Any, now: int) -> LinkProblem | None:
    """What keeps a stored link from opening the centre now, if anything (one order for the
    look and the use, so both say the same of one link)."""
    customer = customer_store.get(conn, row.customer_id)
    if customer is None or customer.status != "active":
        return LinkProblem.GONE
    if row.used_at is not None:
        return LinkProblem.USED
    if row.expires_at <= now:
        return LinkProblem.EXPIRED
    return None


def peek(hub: Hub, token: str) -> tuple[str | None, LinkProblem | None]:
    """Whose link this is and what is wrong with it, without using it (a GET must not: mail
    scanners open every link they see)."""
    if not _signed(hub, token):
        return None, LinkProblem.INVALID
    with hub.db.read() as conn:
        row = store.link(conn, _hash(hub, "preference-link", token))
        if row is None:
            return None, LinkProblem.INVALID
        return row.customer_id, _problem(conn, row, hub.now_micros())


def redeem(hub: Hub, token: str) -> WebSession | LinkProblem:
    """Exchange a link for a session, once."""
    if not _signed(hub, token):
        return LinkProblem.INVALID
    token_hash = _hash(hub, "preference-link", token)
    now = hub.now_micros()
    with hub.db.write() as conn:
        row = store.link(conn, token_hash, for_update=True)
        if row is None:
            return LinkProblem.INVALID
        problem = _problem(conn, row, now)
        if problem is not None:
            return problem
        if not store.use_link(conn, token_hash, now):  # another request used it first
            return LinkProblem.USED
        return _open_session(hub, conn, customer_id=row.customer_id, staff_id=None, now=now)


def _open_session(
    hub: Hub,
    conn: Connection,
    *,
    customer_id: str | None,
    staff_id: str | None,
    now: int,
    minutes: int | None = None,
    kind: str = "web-session",
) -> WebSession:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24)
    expires = now + (minutes or hub.settings.session_minutes) * MINUTE
    store.insert_session(
        conn,
        _hash(hub, kind, token),
        customer_id=customer_id,
        staff_id=staff_id,
        csrf=csrf,
        now=now,
        expires=expires,
    )
    return WebSession(token, customer_id, staff_id, csrf, expires)


def open_staff_session(
    hub: Hub, staff_id: str, minutes: int, *, console: bool = False
) -> WebSession:
    with hub.db.write() as conn:
        return _open_session(
            hub,
            conn,
            customer_id=None,
            staff_id=staff_id,
            now=hub.now_micros(),
            minutes=minutes,
            kind=_kind(console),
        )


def _kind(console: bool) -> str:
    """Console sessions are hashed under their own name: a desk cookie opens no console."""
    return "console-session" if console else "web-session"


def session(hub: Hub, token: str | None, *, console: bool = False) -> WebSession | None:
    """The live session behind a cookie, or None (absent, unknown, expired, or its customer
    erased)."""
    if not token:
        return None
    with hub.db.read() as conn:
        row = store.session(conn, _hash(hub, _kind(console), token))
        if row is None or row.expires_at <= hub.now_micros():
            return None
        if row.customer_id is not None:
            customer = customer_store.get(conn, row.customer_id)
            if customer is None or customer.status != "active":
                return None
    return WebSession(token, row.customer_id, row.staff_id, row.csrf, row.expires_at)


async def signed_in(hub: Hub, token: str | None) -> tuple[WebSession, CustomerStates] | None:
    """The live session of a signed-in customer with their consent states, in one read (the
    preference centre's page), or None, as ``session`` would answer."""
    if not token:
        return None
    found = await hub.quick.session_states(_hash(hub, _kind(False), token))
    if found is None:
        return None
    (customer_id, staff_id, csrf, expires_at), states = found
    if expires_at <= hub.now_micros() or states is None or states.customer.status != "active":
        return None
    return WebSession(token, customer_id, staff_id, csrf, expires_at), states


def end_session(hub: Hub, token: str, *, console: bool = False) -> None:
    with hub.db.write() as conn:
        store.end_session(conn, _hash(hub, _kind(console), token))


def allowed(hub: Hub, what: str, limit: int, window_micros: int) -> bool:
    """Count one attempt at ``what`` (a keyed hash is stored); False once over ``limit``."""
    with hub.db.write() as conn:
        if attempts(hub, conn, what, window_micros) >= limit:
            return False
        count_attempt(hub, conn, what)
    return True


def attempts(hub: Hub, conn: Connection, what: str, window_micros: int) -> int:
    """How many attempts at ``what`` were counted in the window."""
    return store.count_events(
        conn, hub.vault.blind("rate-limit", what), hub.now_micros() - window_micros
    )


def count_attempt(hub: Hub, conn: Connection, what: str) -> None:
    store.add_event(conn, hub.vault.blind("rate-limit", what), hub.now_micros())


def mail_sender(hub: Hub) -> MailSender:
    s = hub.settings
    if s.mail_backend == "smtp":
        return SmtpSender(s.smtp_host, s.smtp_port, s.smtp_user, s.smtp_password, s.smtp_starttls)
    return FileOutbox(s.data_dir / "outbox")


def stored_email(hub: Hub, customer_id: str) -> str | None:
    """The e-mail address the customer gave us, opened from the vault (None if none, or erased)."""
    with hub.db.read() as conn:
        row = customer_store.get(conn, customer_id)
        if row is None or row.status != "active":
            return None
        sealed = dict(customer_store.identifiers_of(conn, customer_id)).get("email")
        if sealed is None:
            return None
        return hub.vault.unseal(customer_id, "email", sealed, hub.vault.key(customer_id))


def request_link(hub: Hub, typed: str, ip: str, subject: str, body: str) -> bool:
    """Send a personal link to the customer whose stored address is ``typed``. The caller
    answers the same either way; False only when a rate limit stopped the request.

    The mail goes to the address *stored* for the customer found, never to the typed text:
    what a mail parser makes of typed text is not what our look-up made of it. Input that is
    not one plain address is treated as not found. The per-address limit counts the customer
    found (or, when none is, the normalised address), so no spelling of one address escapes it.
    """
    hour = 60 * MINUTE
    if not allowed(hub, f"ip:{ip}", hub.settings.link_requests_per_ip_per_hour, hour):
        return False
    try:
        address = normalise_email(typed)
        found = customers.find(hub, CustomerLookup(email=address))
    except (DomainError, ValidationError):  # not one plain address: the same answer, no mail
        return True
    who = f"customer:{found}" if found else f"email:{address}"
    if not allowed(hub, who, hub.settings.link_requests_per_hour, hour):
        return False
    if found is None:
        return True
    to = stored_email(hub, found)
    if to is None:
        return True
    link = create_link(hub, found)
    message = EmailMessage()
    message["From"] = hub.settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body.format(url=link["url"]))
    mail_sender(hub).send(message, about=mail_tag(hub, found))
    return True


def mail_tag(hub: Hub, customer_id: str) -> str:
    """Names a customer's kept mails without naming the customer."""
    return hub.vault.blind("mail", customer_id)[:24]


def forget_mail(hub: Hub, customer_id: str) -> int:
    """The mails kept about an erased customer go with them."""
    return mail_sender(hub).forget(mail_tag(hub, customer_id))
