"""Real-time triggers: rules that react to a customer's events (docs/triggers.md).

A trigger fires on one event type (``on``), optionally only in a category branch; it may need
a count of events in a window (``count``: at least N views of the same category in 7 days) and
may be cancelled by another (``unless``: a purchase in that category in the window). When it
fires, each of its ``then`` actions asks the decision engine for one offer on the action's
channel — so every consent, cap, quiet hour and sensitivity rule applies — and records a
notification: for the store's staff desk, an app push or an e-mail, now or the next morning.
``dedupe`` keeps a trigger from firing twice for one customer within its window; ``cap`` allows
at most so many of its notifications to one customer in a longer window (three a month).

This module is pure: it says whether a trigger fires for an event, given the customer's recent
events, and when its notification is due. The service gathers the events and records.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from consentry.domain.catalogue import within
from consentry.domain.errors import InvalidInput

_WINDOW = re.compile(r"^(\d{1,4})([mhd])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400}


def window_micros(text: str) -> int:
    """``30m``, ``12h``, ``7d`` → microseconds."""
    match = _WINDOW.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(f"{text!r} is not a window: write a number and m, h or d (7d)")
    return int(match.group(1)) * _UNIT[match.group(2)] * 1_000_000


class Notify(StrEnum):
    """Who is told: the store's staff desk, the customer's app, the customer's inbox."""

    DESK = "desk"
    PUSH = "push"
    EMAIL = "email"


# The decision channel each notification chooses its offer for.
CHANNEL_OF = {Notify.DESK: "store", Notify.PUSH: "push", Notify.EMAIL: "email"}


@dataclass(frozen=True)
class Count:
    event: str
    at_least: int
    within: int  # microseconds
    same_category: bool = True


@dataclass(frozen=True)
class Unless:
    event: str
    within: int
    same_category: bool = True


@dataclass(frozen=True)
class Cap:
    count: int
    within: int


@dataclass(frozen=True)
class Then:
    notify: Notify
    # Purposes (``purpose`` or ``purpose:channel``) the customer must allow, beyond those the
    # decision engine checks itself (e.g. location use for a push in a store).
    needs: tuple[str, ...] = ()
    # Deliver at this local hour on the next day (None: at once).
    next_day_at: int | None = None
    # Only offers chosen for something the customer told us (not for everyone).
    declared_only: bool = False


@dataclass(frozen=True)
class Trigger:
    id: str
    on: str  # the event type that fires it
    then: tuple[Then, ...]
    category: str | None = None
    count: Count | None = None
    unless: Unless | None = None
    dedupe: int = 0  # microseconds
    cap: Cap | None = None
    description: str = ""


@dataclass(frozen=True)
class Seen:
    """One of the customer's recent events (excluded ones are never passed in)."""

    id: str
    type: str
    at: int
    category: str | None
    store: str | None


def fires(
    trigger: Trigger,
    event: Seen,
    recent: list[Seen],
    last_fired: int | None,
    notified: Sequence[int] = (),
) -> bool:
    """Does ``event`` fire ``trigger``, given the customer's recent events (``event`` among
    them), when the trigger last fired for them and when it notified them (for its cap)?"""
    if event.type != trigger.on:
        return False
    if trigger.category is not None and not (
        event.category and within(event.category, trigger.category)
    ):
        return False
    if last_fired is not None and event.at < last_fired + trigger.dedupe:
        return False
    if trigger.cap is not None and (
        sum(1 for at in notified if at >= event.at - trigger.cap.within) >= trigger.cap.count
    ):
        return False
    if trigger.count is not None:
        c = trigger.count
        matching = [
            s
            for s in recent
            if s.type == c.event
            and event.at - c.within <= s.at <= event.at
            and (not c.same_category or s.category == event.category)
        ]
        if len(matching) < c.at_least:
            return False
    if trigger.unless is not None:
        u = trigger.unless
        if any(
            s.type == u.event
            and event.at - u.within <= s.at <= event.at
            and (not u.same_category or s.category == event.category)
            for s in recent
        ):
            return False
    return True


def due_at(then: Then, now_local: datetime) -> datetime:
    """When the notification is due: now, or at the given hour the next day."""
    if then.next_day_at is None:
        return now_local
    next_day = (now_local + timedelta(days=1)).replace(
        hour=then.next_day_at, minute=0, second=0, microsecond=0
    )
    return next_day


def describe(trigger: Trigger, event: Seen) -> str:
    """The fact a firing adds to the offer's reasons, in words."""
    if trigger.count is not None:
        what = event.category.rsplit("/", 1)[-1].replace("_", " ") if event.category else "it"
        return (
            f"You looked at {what} {trigger.count.at_least} times or more in "
            f"{trigger.count.within // 86_400_000_000 or 1} days"
        )
    if event.type == "store_visit" and event.store:
        return f"You came into {event.store}"
    return f"Your {event.type.replace('_', ' ')}"
