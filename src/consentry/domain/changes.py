"""Changes announced to other apps: what happened, to which customer, under which purpose.

Every change is written to the outbox in the transaction that makes it, so nothing is announced
that did not commit and nothing committed goes unannounced. A change carries the customer's
pseudonymous id and what changed — never a name, an e-mail or an answer's value: an app that
needs those reads them through the API, under its own purposes.
"""

from __future__ import annotations

from enum import StrEnum


class ChangeType(StrEnum):
    CONSENT_CHANGED = "consent.changed"
    # A grant waiting for the address owner's confirmation (double opt-in), and a box shown
    # and left unticked: evidence, but nothing an app may now do changed. consent.changed
    # follows the request when it is confirmed.
    CONSENT_REQUESTED = "consent.requested"
    CONSENT_REFUSED = "consent.refused"
    PREFERENCE_CHANGED = "preference.changed"
    CUSTOMER_RESTRICTED = "customer.restricted"
    CUSTOMER_UNRESTRICTED = "customer.unrestricted"
    CUSTOMER_ERASED = "customer.erased"
    CUSTOMER_ERASURE_PENDING = "customer.erasure_pending"
    NOTIFICATION_CREATED = "notification.created"


def audience(change_type: str, body: dict[str, object] | None) -> frozenset[str] | None:
    """The apps a change is addressed to, or None: every app that may see it. A reminder of an
    unconfirmed erasure goes only to the apps that still have to confirm it."""
    if change_type == ChangeType.CUSTOMER_ERASURE_PENDING and body is not None:
        apps = body.get("apps_to_confirm")
        if isinstance(apps, list):
            return frozenset(str(a) for a in apps)
    return None


# How long sequenced changes stay readable in the feed (then retention deletes them).
FEED_DAYS = 30
