"""The demo retailer's collection points and their year: the newsletter box in the web shop's
footer (double opt-in by e-mail, two wordings compared) and the checkout's boxes (newsletter
and partners' offers), each with a year of submissions — most footer sign-ups confirmed within
a day, some never (expired), and boxes left unticked recorded as refused."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from consentry.domain.access import Caller
from consentry.schemas.collection_points import PointIn, SubmissionIn
from consentry.schemas.purposes import PurposeUpdate
from consentry.services import collection_points, confirming, purposes
from consentry.services.hub import Hub
from consentry.store import confirmations as confirmation_store

SHOP = "http://127.0.0.1:8000"
FOOTER = {
    "name": "Web shop footer: newsletter",
    "placement": "web",
    "identify_by": "email",
    "origins": [SHOP],
    "languages": ["en", "de"],
    "boxes": [{"purpose": "newsletter", "channel": "email"}],
    "wordings": [
        {
            "name": "a",
            "heading": {"en": "Our newsletter", "de": "Unser Newsletter"},
            "labels": [{"en": "E-mail me your offers", "de": "Schicken Sie mir Ihre Angebote"}],
            "submit": {"en": "Sign up", "de": "Anmelden"},
        },
        {
            "name": "b",
            "heading": {"en": "Twice a month, no more", "de": "Zweimal im Monat, nie öfter"},
            "labels": [
                {
                    "en": "Yes, send me the two best offers each month",
                    "de": "Ja, schicken Sie mir die zwei besten Angebote im Monat",
                }
            ],
            "submit": {"en": "Count me in", "de": "Ich bin dabei"},
        },
    ],
}
CHECKOUT = {
    "name": "Checkout",
    "placement": "web",
    "identify_by": "email",
    "origins": [SHOP],
    "languages": ["en", "de"],
    "boxes": [
        {"purpose": "newsletter", "channel": "email"},
        {"purpose": "partner_offers", "channel": "email"},
    ],
    "wordings": [
        {
            "name": "a",
            "heading": {"en": "Stay in touch", "de": "In Kontakt bleiben"},
            "labels": [
                {"en": "E-mail me your offers", "de": "Schicken Sie mir Ihre Angebote"},
                {"en": "And offers from your partners", "de": "Und Angebote Ihrer Partner"},
            ],
            "submit": {"en": "Place order", "de": "Bestellen"},
        }
    ],
}
# Who ticks the footer's box, by wording: b, plainer about how often, does better.
FOOTER_TICKS = {"a": 0.62, "b": 0.78}
CHECKOUT_TICKS = (0.34, 0.12)
CONFIRMED = 0.72  # of footer and checkout requests, confirmed within a day


def build(hub: Hub, admin: Caller, rng: random.Random, now: datetime, count: int) -> int:
    """The two points and about ``count`` submissions over the last year; how many were made.
    The newsletter asks for confirmation by e-mail from here on (the retailer's change: the
    grants before it stand, as captured)."""
    with hub.db.write() as conn:
        purposes.update(hub, conn, "newsletter", PurposeUpdate(confirmations={"email": "email"}))
        footer = collection_points.create(hub, conn, PointIn.model_validate(FOOTER))
        checkout = collection_points.create(hub, conn, PointIn.model_validate(CHECKOUT))
    made = 0
    for n in range(count):
        at_checkout = n % 3 == 0
        point = checkout if at_checkout else footer
        wording = "a" if at_checkout else rng.choice("ab")
        if at_checkout:
            ticks = [rng.random() < p for p in CHECKOUT_TICKS]
        else:
            ticks = [rng.random() < FOOTER_TICKS[wording]]
        when = now - timedelta(days=rng.uniform(0.5, 364), minutes=rng.randint(0, 600))
        body = SubmissionIn(
            version=1,
            wording=wording,
            lang="de" if rng.random() < 0.15 else "en",
            identifiers={"email": f"visitor.{n}@example.net"},
            captured_at=when,
            choices=[
                {
                    "purpose": box["purpose"],
                    "channel": box["channel"],
                    "notice_version": box["notice_version"],
                    "chosen": tick,
                }
                for box, tick in zip(point["boxes"], ticks, strict=True)
            ],
        )
        with hub.db.write() as conn:
            done = collection_points.submit(
                hub, conn, point["id"], body, key=None, app=admin, origin=SHOP
            )
        made += 1
        if done.awaiting_confirmation and rng.random() < CONFIRMED:
            at = min(when + timedelta(hours=rng.uniform(0.1, 20)), now)
            confirming.confirm_all_of(hub, done.customer_id, at)
    # Their messages went out when they were made (no mail for the demo to send now).
    with hub.db.write() as conn:
        confirmation_store.all_sent_when_made(conn)
    return made
