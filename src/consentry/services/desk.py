"""The staff desk: clerks in store and call-centre agents serve the customer in front of them.

Staff sign in with a user name and password (argon2id hashes, via argon2-cffi); an account is
locked for a while after repeated failures. A clerk sees the least needed to serve a customer
(first name, masked e-mail, consents), records changes on the customer's behalf — the evidence
names the staff member, the desk (source ``store`` or ``call_centre``), its location and the
notice version read out — and cannot grant sensitive purposes (the consent rules refuse it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from typing import Any

import orjson
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection

from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.domain.consent import Action, ActorType, Source
from consentry.domain.console import validate_role
from consentry.domain.errors import Conflict, InvalidInput, NotFound
from consentry.domain.ids import new_id
from consentry.domain.passwords import check_password
from consentry.domain.purposes import Notice
from consentry.domain.questions import AskChannel
from consentry.domain.staff import StaffMember
from consentry.domain.triggers import Notify
from consentry.schemas.consents import Actor, ConsentChange, WithdrawAll
from consentry.schemas.customers import CustomerLookup
from consentry.services import (
    centre,
    consents,
    customers,
    evidence,
    profiling,
    triggers,
    web_access,
)
from consentry.services.hub import Hub
from consentry.services.question_form import answer_from_form
from consentry.services.web_access import WebSession
from consentry.store import consents as consent_store
from consentry.store import purposes as purpose_store
from consentry.store import staff as store

MINUTE = 60_000_000
# Failed sign-ins only are counted, in three buckets over a quarter of an hour: one browser
# guessing one account (IP and user name), one account guessed from everywhere (its user
# name; higher, so that one attacker cannot lock a clerk out from one address), and one
# address guessing every account (its IP; highest, since behind a shop's NAT every till
# shares it). The answer never says which, nor whether the name exists.
PAUSE_MINUTES = 15
FAILURES_PER_IP_AND_USER = 5
FAILURES_PER_USER = 20
FAILURES_PER_IP = 50
DESKS = {"store": Source.STORE, "call_centre": Source.CALL_CENTRE}
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()
# Verified against when the user name is unknown, so a wrong name takes as long as a wrong
# password and does not tell which names exist.
_DUMMY = _hasher.hash("not a password of anyone")


REFUSED_TEXT = (
    "That did not work: check your user name and password. After several failed attempts, "
    "signing in pauses for 15 minutes."
)


class SignInProblem(StrEnum):
    # One answer for a wrong password, an unknown or disabled name, and a paused sign-in:
    # told apart, they would say which names exist (and a pause would answer faster).
    REFUSED = "refused"


def add_staff(
    hub: Hub,
    username: str,
    display_name: str,
    password: str,
    desk: str | None,
    location: str | None,
    console_role: str | None = None,
) -> StaffMember:
    """A staff account: a desk (store or call centre, at a location), a console role, or both."""
    with hub.db.write() as conn:
        return insert_staff(
            hub, conn, username, display_name, password, desk, location, console_role
        )


def insert_staff(
    hub: Hub,
    conn: Connection,
    username: str,
    display_name: str,
    password: str,
    desk: str | None,
    location: str | None,
    console_role: str | None,
) -> StaffMember:
    if not _USERNAME.match(username):
        raise InvalidInput("a user name is 2 to 64 lower-case letters, digits, '.', '_' or '-'")
    if desk is None and console_role is None:
        raise InvalidInput("give the account a desk, a console role or both")
    if desk is not None and desk not in DESKS:
        raise InvalidInput(f"the desk is one of {', '.join(DESKS)}")
    if console_role is not None:
        validate_role(console_role)
    check_password(password, about=[username, display_name])
    if not display_name.strip():
        raise InvalidInput("name the staff member")
    if desk is not None and not (location or "").strip():
        raise InvalidInput("say where the staff member's desk is (the location)")
    row = StaffMember(
        new_id("stf"),
        username,
        display_name.strip(),
        _hasher.hash(password),
        desk,
        location.strip() if desk is not None and location else None,
        0,
        None,
        None,
        console_role,
    )
    if store.by_username(conn, username) is not None:
        raise Conflict(f"there is already a staff member {username!r}")
    store.insert(conn, row, hub.now_micros())
    return row


def sign_in(
    hub: Hub, username: str, password: str, ip: str, *, console: bool = False
) -> WebSession | SignInProblem:
    """Into the desk, or with ``console`` into the console: an account without a desk (or a
    console role) is refused there exactly like a wrong password. Every refusal costs one
    password hash, whatever its reason, so that its timing tells nothing."""
    name = username.strip().lower()
    buckets = [
        (f"staff-fail:{ip}:{name}", FAILURES_PER_IP_AND_USER),
        (f"staff-fail-user:{name}", FAILURES_PER_USER),
        (f"staff-fail-ip:{ip}", FAILURES_PER_IP),
    ]
    window = PAUSE_MINUTES * MINUTE
    with hub.db.write() as conn:
        paused = any(web_access.attempts(hub, conn, k, window) >= n for k, n in buckets)
        found = store.by_username(conn, name, for_update=True)
        member = (
            found
            if found is not None and found.disabled_at is None and _serves(found, console)
            else None
        )
        right = _verify(member.password_hash if member else _DUMMY, password)
        if paused or member is None or not right:
            for key, _ in buckets:
                web_access.count_attempt(hub, conn, key)
            return SignInProblem.REFUSED
        rehash = (
            _hasher.hash(password) if _hasher.check_needs_rehash(member.password_hash) else None
        )
        store.record_success(conn, member.id, rehash)
    return web_access.open_staff_session(
        hub, member.id, hub.settings.staff_session_minutes, console=console
    )


def _serves(member: StaffMember, console: bool) -> bool:
    return member.console_role is not None if console else member.desk is not None


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def staff_of(hub: Hub, session: WebSession) -> StaffMember | None:
    """The enabled staff member behind a session."""
    if session.staff_id is None:
        return None
    with hub.db.read() as conn:
        found = store.get(conn, session.staff_id)
    return found if found is not None and found.disabled_at is None else None


def member(hub: Hub, session: WebSession) -> StaffMember | None:
    """The signed-in clerk, while the account is enabled and has a desk."""
    found = staff_of(hub, session)
    return found if found is not None and found.desk is not None else None


def caller_of(member: StaffMember) -> Caller:
    """The desk acts as an app named after the staff member (for the customer's access log)."""
    return Caller(
        f"desk:{member.username}",
        f"staff desk ({member.display_name}, {member.location})",
        frozenset({Scope.CONSENTS_READ.value, Scope.CONSENTS_WRITE.value}),
        frozenset({ALL_PURPOSES}),
    )


def find(hub: Hub, member: StaffMember, lookup: CustomerLookup) -> str | None:
    found = customers.find(hub, lookup)
    if found is not None:
        fields = sorted(lookup.model_dump(exclude_none=True))
        hub.access.record(found, caller_of(member), "lookup", fields)
    return found


@dataclass(frozen=True)
class CustomerCard:
    """The least a clerk needs: a first name to greet, a masked e-mail to confirm, consents."""

    id: str
    first_name: str | None
    masked_email: str | None
    purposes: list[centre.PurposeView]


def card(hub: Hub, member: StaffMember, customer_id: str, words: Any) -> CustomerCard:
    with hub.db.read() as conn:
        row = customers.require_active(conn, customer_id)
        clear = customers.opened_profile(hub, conn, row)
    hub.access.record(customer_id, caller_of(member), "desk", ["first name", "masked e-mail"])
    name = clear.get("name")
    email = clear["identifiers"].get("email")
    return CustomerCard(
        customer_id,
        name.split()[0] if name else None,
        _mask(email) if email else None,
        centre.views(hub, customer_id, words),
    )


def _mask(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def _capture(member: StaffMember) -> dict[str, Any]:
    assert member.desk is not None  # desk.member() lets no console-only account in
    return {
        "source": DESKS[member.desk],
        "actor": Actor(type=ActorType.STAFF, id=member.username),
        "location": member.location,
        "proof": {"method": "notice read out by staff"},
    }


def record(
    hub: Hub,
    member: StaffMember,
    customer_id: str,
    purpose_id: str,
    channel: str | None,
    action: Action,
    notice_version: int,
) -> str:
    body = ConsentChange(
        purpose=purpose_id,
        channel=channel,
        action=action,
        notice_version=notice_version,
        **_capture(member),
    )
    with hub.db.write() as conn:
        answer = consents.record_change(hub, conn, caller_of(member), customer_id, body)
    return str(answer["record"]["id"])


def notice_to_read(hub: Hub, purpose_id: str, notice_version: int) -> Notice | None:
    """The notice a clerk reads out before recording a grant: the version the desk showed;
    None when the purpose or that version is unknown."""
    with hub.db.read() as conn:
        found = purpose_store.notice_versions(conn, purpose_id)
    return next((n for n in found if n.version == notice_version), None)


def opt_out_of_everything(hub: Hub, member: StaffMember, customer_id: str) -> int:
    with hub.db.write() as conn:
        answer = consents.withdraw_all(
            hub, conn, caller_of(member), customer_id, WithdrawAll(**_capture(member))
        )
    return len(answer["records"])


def receipt(hub: Hub, member: StaffMember, record_id: str) -> dict[str, Any] | None:
    """A record and its signed receipt, for the printed or e-mailed receipt (any staff member
    may give any customer the receipt of a change: the desk serves every purpose)."""
    with hub.db.read() as conn:
        row = consent_store.record_by_id(conn, record_id)
        if row is None:
            return None
        leaf = orjson.loads(row.leaf)
        purpose = purpose_store.get(conn, leaf["purpose"])
    assert purpose is not None
    opened = consents.opened(hub, leaf["customer_id"], row.sealed)
    record = consents.record_json(leaf, row.seq, bytes(row.leaf_hash), opened)
    return {"record": record, "jws": evidence.signed_receipt(hub, record, row.pk, purpose)}


def send_receipt(hub: Hub, member: StaffMember, record_id: str, subject: str, text: str) -> bool:
    """E-mail the receipt to the customer's address on file; False when there is none."""
    found = receipt(hub, member, record_id)
    if found is None:
        return False
    customer_id = found["record"]["customer_id"]
    with hub.db.read() as conn:
        row = customers.require_active(conn, customer_id)
        email = customers.opened_profile(hub, conn, row)["identifiers"].get("email")
    if not email:
        return False
    message = EmailMessage()
    message["From"] = hub.settings.mail_from
    message["To"] = email
    message["Subject"] = subject
    message.set_content(text)
    message.add_attachment(
        found["jws"].encode(),
        maintype="application",
        subtype="jose",
        filename=f"receipt-{record_id}.jws",
    )
    web_access.mail_sender(hub).send(message)
    return True


# -- progressive profiling at the desk: one question the clerk may ask now


def question_to_ask(
    hub: Hub, member: StaffMember, session_token: str, customer_id: str, lang: str
) -> dict[str, Any] | None:
    """In a store only (a call-centre agent does not ask): the question for this customer, the
    same one while this clerk's session stays on them. Never a sensitive one (a shop floor is
    not private): the policy sees to that."""
    if member.desk != "store":
        return None
    question = profiling.next_question(
        hub, caller_of(member), customer_id, AskChannel.STORE, f"{session_token}:{customer_id}"
    )
    return profiling.asked_json(question, lang) if question else None


def record_answer(
    hub: Hub, member: StaffMember, customer_id: str, question_id: str, values: list[str]
) -> int:
    """The answer the customer gave the clerk; the points it earned."""
    value = answer_from_form(hub, question_id, values)
    with hub.db.write() as conn:
        given = profiling.answer(
            hub,
            conn,
            caller_of(member),
            customer_id,
            question_id,
            value,
            AskChannel.STORE,
            Actor(type=ActorType.STAFF, id=member.username),
        )
    return int(given["points_earned"])


def record_decline(hub: Hub, member: StaffMember, customer_id: str, question_id: str) -> None:
    with hub.db.write() as conn:
        profiling.decline(
            hub,
            conn,
            caller_of(member),
            customer_id,
            question_id,
            AskChannel.STORE,
            Actor(type=ActorType.STAFF, id=member.username),
        )


def in_store(hub: Hub, member: StaffMember) -> list[dict[str, Any]]:
    """For a store's desk: customers the real-time triggers noticed coming in, each with the
    offer worth mentioning and why (only what they allowed; see services/triggers.py)."""
    if member.desk != "store":
        return []
    pending = triggers.pending(hub, Notify.DESK, member.location, limit=20)
    with hub.db.read() as conn:
        for notification in pending:
            row = customers.require(conn, notification["customer"])
            name = customers.opened_profile(hub, conn, row)["name"]
            # A first name to greet, as on the customer's card: a clerk needs no more.
            notification["name"] = name.split()[0] if name else None
            hub.access.record(row.id, caller_of(member), "desk", ["first name"])
    return pending


def notification_done(hub: Hub, member: StaffMember, notification_id: str) -> None:
    with hub.db.write() as conn:
        found = triggers.store_of(conn, notification_id)
        if found is None or found != member.location:
            raise NotFound(f"no notification {notification_id!r} for {member.location}")
        triggers.done(hub, conn, notification_id)
