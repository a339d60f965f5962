"""Purposes (what data is used for), their legal basis and their versioned notices."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from consentry.domain.canonical import canonical_json
from consentry.domain.errors import InvalidInput, UnknownChannel


class LegalBasis(StrEnum):
    CONSENT = "consent"
    LEGITIMATE_INTEREST = "legitimate_interest"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"


# The channels a purpose may reach a customer through. A closed list catches typos
# ("e-mail", "sms ") at the door instead of silently creating a channel nobody checks.
CHANNELS = ("email", "sms", "post", "phone", "push", "in_app", "web", "store", "social", "ads")
# How a grant can be confirmed (double opt-in): a link to the stored e-mail address. ("sms"
# waits for an SMS gateway, which Consentry does not have yet.)
CONFIRMATION_KINDS = ("email",)
# The scope of a record given without a channel: every channel of the purpose.
ALL_CHANNELS = "*"

_PURPOSE_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


def validate_purpose_id(purpose_id: str) -> str:
    if not _PURPOSE_ID.match(purpose_id):
        raise InvalidInput(
            f"{purpose_id!r} is not a purpose id: use 1-64 lower-case letters, digits, _ or -,"
            " starting with a letter",
            [{"loc": ["id"], "msg": "bad purpose id"}],
        )
    return purpose_id


def validate_channels(channels: list[str]) -> tuple[str, ...]:
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown:
        raise UnknownChannel(
            f"unknown channel {unknown[0]!r}; channels are {', '.join(CHANNELS)}",
            [{"loc": ["channels"], "msg": f"unknown channel {c!r}"} for c in unknown],
        )
    if len(set(channels)) != len(channels):
        raise InvalidInput("a channel is listed twice", [{"loc": ["channels"], "msg": "repeated"}])
    return tuple(channels)


def validate_confirmations(
    confirmations: dict[str, str], channels: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """Each confirmed channel is one of the purpose's (or "*", the whole purpose), confirmed
    by e-mail (the only kind there is yet)."""
    for channel, kind in confirmations.items():
        if channel != ALL_CHANNELS and channel not in channels:
            raise UnknownChannel(
                f"confirmations names {channel!r}, which is not a channel of the purpose",
                [{"loc": ["confirmations", channel], "msg": "not a channel of the purpose"}],
            )
        if kind not in CONFIRMATION_KINDS:
            raise InvalidInput(
                f"a grant is confirmed by e-mail, not {kind!r} (text messages need an SMS "
                "gateway, which is not built in yet)",
                [{"loc": ["confirmations", channel], "msg": "email"}],
            )
    return tuple(sorted(confirmations.items()))


def notice_hash(title: str, description: str) -> str:
    """SHA-256 hex of the canonical notice: ``{"description": …, "title": …}`` as canonical JSON."""
    return hashlib.sha256(canonical_json({"title": title, "description": description})).hexdigest()


@dataclass(frozen=True)
class Notice:
    """What the customer was shown: one version of a purpose's title and description."""

    purpose: str
    version: int
    title: str
    description: str
    notice_hash: str
    reconsent: bool
    published_at: int


class Section(StrEnum):
    """Where a purpose sits in the preference centre: the way a customer thinks of it."""

    MESSAGES = "messages"  # messages to me: newsletters, catalogues, partner offers
    CHOSEN_FOR_ME = "chosen_for_me"  # offers chosen for me: from what I said or bought
    SHARING = "sharing"  # my data shared with others (ads on other sites)
    SERVICES = "services"  # services I use: order updates, in-store notices


def default_section(legal_basis: LegalBasis, channels: Sequence[str], gpc: bool) -> Section:
    """The section of a purpose created without one: what serves a contract is a service, what
    a Global Privacy Control signal turns off is sharing, what reaches nobody on a channel
    (profiling) is chosen for the customer; the rest are messages."""
    if legal_basis in (LegalBasis.CONTRACT, LegalBasis.LEGAL_OBLIGATION):
        return Section.SERVICES
    if gpc:
        return Section.SHARING
    if not channels:
        return Section.CHOSEN_FOR_ME
    return Section.MESSAGES


@dataclass(frozen=True)
class Purpose:
    id: str
    version: int
    title: str
    description: str
    notice_hash: str
    legal_basis: LegalBasis
    channels: tuple[str, ...]
    sensitive: bool
    expires_after_days: int | None
    # Grants given under a version below this one read as stale (set by a reconsent).
    stale_before_version: int
    created_at: int
    updated_at: int
    # A Global Privacy Control signal (Sec-GPC: 1) opts the customer out of this purpose
    # (sale or sharing of their data).
    gpc: bool = False
    section: Section = Section.MESSAGES
    # Double opt-in: the channels whose grants from the web or an app wait for the address
    # owner's confirmation, and how ("email"); "*" for a grant of the whole purpose.
    confirmations: tuple[tuple[str, str], ...] = ()
    # How long such a grant waits before it expires unconfirmed.
    confirm_days: int = 7

    def confirmation_for(self, channel: str | None) -> str | None:
        """How a grant on ``channel`` (None: every channel) is confirmed; None: it needs none.
        A grant of the whole purpose needs what any of its channels needs."""
        needed = dict(self.confirmations)
        if channel is None:
            return needed.get(ALL_CHANNELS, next(iter(needed.values()), None))
        # "*" asks it of every channel; a channel's own setting says it for that channel.
        return needed.get(channel, needed.get(ALL_CHANNELS))

    def check_channel(self, channel: str | None) -> None:
        if channel is None:
            return
        if channel not in self.channels:
            allowed = ", ".join(self.channels) or "none (omit the channel)"
            raise UnknownChannel(
                f"purpose {self.id!r} has no channel {channel!r}; its channels are {allowed}",
                [{"loc": ["channel"], "msg": f"not a channel of {self.id}"}],
            )

    def scopes(self) -> tuple[str | None, ...]:
        """The channel entries a customer's consent list shows for this purpose."""
        return self.channels if self.channels else (None,)
