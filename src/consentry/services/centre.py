"""The customer's preference centre: what each page shows, and the changes it makes.

Changes go through the same consent services as the API and are evidence like any other:
``source: web``, ``actor: customer``.
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.domain.consent import Action, ActorType, ConsentEntry, Source
from consentry.domain.purposes import LegalBasis, Purpose
from consentry.domain.purposes import Section as PurposeSection
from consentry.schemas.consents import Actor, ConsentChange, WithdrawAll
from consentry.services import consents, customers, evidence, export, purposes, reads
from consentry.services.hub import Hub
from consentry.store import consents as consent_store
from consentry.store import profiling as profiling_store
from consentry.store import purposes as purpose_store
from consentry.store.customers import CustomerRow
from consentry.store.quick import CustomerStates

# The preference centre acts for the customer; it may touch every purpose (sensitive ones too,
# since the actor is the customer).
CENTRE = Caller(
    "preference-centre",
    "preference centre (you)",
    frozenset(
        {
            Scope.CONSENTS_READ.value,
            Scope.CONSENTS_WRITE.value,
            Scope.CONSENTS_SENSITIVE.value,
            Scope.SUBJECTS_MANAGE.value,
        }
    ),
    frozenset({ALL_PURPOSES}),
)
# How long "Undo" is offered after "Stop all marketing".
UNDO_SECONDS = 30
GPC_PROOF = {"signal": "Sec-GPC: 1", "method": "global-privacy-control"}


@dataclass(frozen=True)
class ChoiceRow:
    channel: str | None
    channel_label: str
    allowed: bool
    since: str | None
    changeable: bool
    status: str = "not_set"


@dataclass(frozen=True)
class PurposeView:
    purpose: Purpose
    rows: list[ChoiceRow]
    receipt: str | None = None


def channel_labels(_: Callable[[str], str]) -> dict[str | None, str]:
    return {
        None: _("All channels"),
        "email": _("E-mail"),
        "sms": _("Text message"),
        "post": _("Post"),
        "phone": _("Phone"),
        "push": _("Push notification"),
        "in_app": _("In the app"),
        "web": _("On the website"),
        "store": _("In store"),
        "social": _("Social media"),
        "ads": _("Advertising"),
    }


def views(
    hub: Hub, customer_id: str, _: Callable[[str], str], only: str | None = None
) -> list[PurposeView]:
    with hub.db.read() as conn:
        customer = customers.require_active(conn, customer_id)
        current = consent_store.entries(conn, customer_id)
        all_purposes = purposes.catalogue(hub, conn)
    return views_of(customer, current, all_purposes, hub.now_micros(), _, only)


async def views_soon(hub: Hub, read: CustomerStates, _: Callable[[str], str]) -> list[PurposeView]:
    """The views from a quick read of the customer's states (the page's), purposes cached."""
    catalogue = await reads.purposes(hub, read.fingerprint)
    return views_of(read.customer, read.entries, catalogue, hub.now_micros(), _)


def views_of(
    customer: CustomerRow,
    current: dict[tuple[str, str], ConsentEntry],
    all_purposes: list[Purpose],
    now: int,
    _: Callable[[str], str],
    only: str | None = None,
) -> list[PurposeView]:
    labels = channel_labels(_)
    out = []
    for purpose in all_purposes:
        if only is not None and purpose.id != only:
            continue
        changeable = purpose.legal_basis in (LegalBasis.CONSENT, LegalBasis.LEGITIMATE_INTEREST)
        rows = [
            ChoiceRow(
                state["channel"],
                labels.get(state["channel"], state["channel"] or ""),
                bool(state["allowed"]),
                state["since"][:10] if state["since"] else None,
                changeable,
                state["status"],
            )
            for state in consents.purpose_state(purpose, current, now, customer)
        ]
        out.append(PurposeView(purpose, rows))
    return out


@dataclass(frozen=True)
class SectionView:
    """A part of the centre: the purposes a customer thinks of together."""

    section: PurposeSection
    views: list[PurposeView]


SECTION_ORDER = (
    PurposeSection.MESSAGES,
    PurposeSection.CHOSEN_FOR_ME,
    PurposeSection.SHARING,
    PurposeSection.SERVICES,
)


def sections(views: list[PurposeView]) -> list[SectionView]:
    """The views grouped into the centre's sections, in the order a customer reads them; an
    empty section is left out."""
    grouped: dict[PurposeSection, list[PurposeView]] = {s: [] for s in SECTION_ORDER}
    for view in views:
        grouped[view.purpose.section].append(view)
    # Sensitive purposes last in their section: asked for, never pushed.
    return [
        SectionView(s, sorted(grouped[s], key=lambda v: v.purpose.sensitive))
        for s in SECTION_ORDER
        if grouped[s]
    ]


@dataclass(frozen=True)
class Summary:
    """The top of the centre: what the customer gets, how much they told us, their points."""

    getting: list[tuple[str, list[str]]]  # (purpose title, channel labels) allowed now
    told: int
    points: int


def summary(hub: Hub, customer_id: str, views: list[PurposeView]) -> Summary:
    getting = [
        (view.purpose.title, [row.channel_label for row in view.rows if row.allowed])
        for view in views
        if view.purpose.legal_basis is LegalBasis.CONSENT and any(r.allowed for r in view.rows)
    ]
    with hub.db.read() as conn:
        told = profiling_store.answered_count(conn, customer_id, hub.now_micros())
        points = profiling_store.balance(conn, customer_id)
    return Summary(getting, told, points)


def _capture(proof: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "source": Source.WEB,
        "actor": Actor(type=ActorType.CUSTOMER),
        "proof": proof or {"method": "preference-centre"},
    }


def change(
    hub: Hub,
    customer_id: str,
    purpose_id: str,
    channel: str | None,
    action: Action,
    notice_version: int,
    proof: dict[str, Any] | None = None,
) -> str:
    """Record one change; the new record's id (for its receipt)."""
    body = ConsentChange(
        purpose=purpose_id,
        channel=channel,
        action=action,
        notice_version=notice_version,
        **_capture(proof),
    )
    with hub.db.write() as conn:
        answer = consents.record_change(
            hub, conn, CENTRE, customer_id, body, customer_signed_in=True
        )
    return str(answer["record"]["id"])


def stop_all(hub: Hub, customer_id: str) -> str | None:
    """Withdraw everything; an undo token naming what was withdrawn, None if nothing was."""
    with hub.db.write() as conn:
        answer = consents.withdraw_all(hub, conn, CENTRE, customer_id, WithdrawAll(**_capture()))
    withdrawn = [[r["purpose"], r["channel"]] for r in answer["records"]]
    if not withdrawn:
        return None
    payload = orjson.dumps({"c": customer_id, "t": hub.now_micros(), "w": withdrawn})
    encoded = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{encoded}.{_undo_mac(hub, encoded)}"


def _undo_mac(hub: Hub, encoded: str) -> str:
    return hub.vault.blind("stop-all-undo", encoded)[:32]


def undo(hub: Hub, customer_id: str, token: str) -> int | None:
    """Grant again what a "Stop all" withdrew — new grants, recorded as such. None when the
    token is not this customer's, altered, or older than UNDO_SECONDS."""
    encoded, _, mac = token.partition(".")
    if not hmac.compare_digest(mac, _undo_mac(hub, encoded)):
        return None
    payload = orjson.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    if payload["c"] != customer_id or hub.now_micros() - payload["t"] > UNDO_SECONDS * 1_000_000:
        return None
    with hub.db.write() as conn:
        for purpose_id, channel in payload["w"]:
            purpose = purpose_store.get(conn, purpose_id)
            if purpose is None:
                continue
            body = ConsentChange(
                purpose=purpose_id,
                channel=channel,
                action=Action.GRANT,
                notice_version=purpose.version,
                **_capture({"method": "preference-centre", "undo_of": "stop-all"}),
            )
            consents.record_change(hub, conn, CENTRE, customer_id, body, customer_signed_in=True)
    return len(payload["w"])


def honour_gpc(hub: Hub, customer_id: str, shown: list[PurposeView]) -> int:
    """A Global Privacy Control signal opts out of every purpose marked ``gpc``: each one still
    allowed in ``shown`` (the page's views) is withdrawn, with the signal named in the proof.
    The count withdrawn."""
    withdrawn = 0
    for view in shown:
        if view.purpose.gpc and any(row.allowed for row in view.rows):
            change(
                hub,
                customer_id,
                view.purpose.id,
                None,
                Action.WITHDRAW,
                view.purpose.version,
                GPC_PROOF,
            )
            withdrawn += 1
    return withdrawn


def receipt(hub: Hub, customer_id: str, record_id: str) -> dict[str, str] | None:
    """The receipt of one of the customer's own records with its offline proof (a bundle);
    None for anyone else's."""
    with hub.db.read() as conn:
        row = consent_store.record_by_id(conn, record_id)
    if row is None or orjson.loads(row.leaf)["customer_id"] != customer_id:
        return None
    return evidence.receipt_bundle(hub, CENTRE, record_id)


def data(hub: Hub, customer_id: str) -> dict[str, Any]:
    return export.export(hub, CENTRE, customer_id, by_customer=True)
