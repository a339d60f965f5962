"""A realistic demo retailer: purposes, notices, customers and consent histories from the web,
the stores and the call centre."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from consentry.demo import collection as demo_collection
from consentry.demo import shop as demo_shop
from consentry.domain.access import ALL_PURPOSES, Caller, Scope
from consentry.domain.clock import to_micros
from consentry.domain.consent import Action, ActorType, Source
from consentry.domain.purposes import LegalBasis, Section
from consentry.domain.questions import AskChannel, Question, QuestionKind, tokens
from consentry.schemas.consents import Actor, ConsentChange
from consentry.schemas.customers import CustomerCreate, CustomerLookup, Identifiers
from consentry.schemas.offers import DecisionIn, OfferChannel
from consentry.schemas.purposes import PurposeCreate, PurposeUpdate
from consentry.services import (
    consents,
    customers,
    decisions,
    events,
    profiling,
    purposes,
    questions,
)
from consentry.services.hub import Hub
from consentry.services.question_file import read_bank
from consentry.store.tables import customers as customer_table

QUESTIONS = Path(__file__).parent.parent / "data" / "demo-questions.yaml"

PURPOSES = [
    PurposeCreate(
        id="newsletter",
        title="Newsletter and offers",
        description="We e-mail you our offers, at most twice a month.",
        legal_basis=LegalBasis.CONSENT,
        channels=["email", "sms", "post"],
        expires_after_days=730,
    ),
    PurposeCreate(
        id="personalisation",
        section=Section.CHOSEN_FOR_ME,
        title="Offers chosen from what you tell us",
        description="We use the preferences you share with us to pick offers for you.",
        legal_basis=LegalBasis.CONSENT,
        channels=["email", "in_app", "store"],
    ),
    PurposeCreate(
        id="profiling",
        section=Section.CHOSEN_FOR_ME,
        title="Suggestions from your purchases",
        description="We look at what you bought to suggest things that go with it. "
        "We never guess sensitive facts such as health or pregnancy.",
        legal_basis=LegalBasis.CONSENT,
        channels=[],
    ),
    PurposeCreate(
        id="preferences",
        section=Section.CHOSEN_FOR_ME,
        title="Ask me about my preferences",
        description="Now and then we ask you one short question, and reward answers "
        "with loyalty points.",
        legal_basis=LegalBasis.CONSENT,
        channels=["web", "in_app", "store", "email"],
    ),
    PurposeCreate(
        id="partner_offers",
        title="Offers from our partners",
        description="We pass offers from partner brands on to you. We never sell "
        "or give your data to them.",
        legal_basis=LegalBasis.CONSENT,
        channels=["email", "post"],
        expires_after_days=365,
    ),
    PurposeCreate(
        id="ad_sharing",
        title="Ads that fit you on other sites",
        description="We share a pseudonymous id and the interests you told us with our "
        "advertising partners, so that their ads fit you. A Global Privacy Control signal "
        "from your browser turns this off.",
        legal_basis=LegalBasis.CONSENT,
        channels=["ads"],
        gpc=True,
    ),
    PurposeCreate(
        id="postal_catalogue",
        title="Seasonal catalogue by post",
        description="We post our seasonal catalogue to loyalty members.",
        legal_basis=LegalBasis.LEGITIMATE_INTEREST,
        channels=["post"],
    ),
    PurposeCreate(
        id="order_updates",
        title="Order and delivery updates",
        description="We tell you where your order is.",
        legal_basis=LegalBasis.CONTRACT,
        channels=["email", "sms"],
    ),
    PurposeCreate(
        id="maternity",
        section=Section.CHOSEN_FOR_ME,
        title="Baby and maternity offers",
        description="Offers for parents-to-be. Only if you tell us yourself; we never "
        "infer it from what you buy.",
        legal_basis=LegalBasis.CONSENT,
        channels=["email", "in_app", "web"],
        sensitive=True,
    ),
    PurposeCreate(
        id="location",
        section=Section.SERVICES,
        title="Notice when I am in your store",
        description="Our app may notice when you walk into one of our stores, to tell you "
        "about an offer there. Never outside our stores.",
        legal_basis=LegalBasis.CONSENT,
        channels=["push"],
    ),
    PurposeCreate(
        id="health_offers",
        section=Section.CHOSEN_FOR_ME,
        title="Pharmacy and health offers",
        description="Offers on pharmacy and health products. Only if you ask for them; we "
        "never infer your health from what you buy.",
        legal_basis=LegalBasis.CONSENT,
        channels=["email", "in_app", "web"],
        sensitive=True,
    ),
]

FIRST = [
    "Ann",
    "Bilal",
    "Chloe",
    "Dev",
    "Ewa",
    "Femi",
    "Grace",
    "Hamza",
    "Isla",
    "Jack",
    "Kiran",
    "Leah",
    "Marek",
    "Nia",
    "Oscar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tomasz",
    "Uma",
    "Vik",
    "Wen",
    "Yusuf",
    "Zoe",
]
LAST = [
    "Lee",
    "Khan",
    "Smith",
    "Patel",
    "Nowak",
    "Adeyemi",
    "Jones",
    "Murphy",
    "Chen",
    "Taylor",
    "Brown",
    "Wilson",
    "Evans",
    "Ahmed",
    "Davies",
    "Kowalski",
    "Okafor",
    "Walsh",
]
AREAS = ["SW1A", "M1", "B5", "LS1", "G2", "CF10", "BS1", "NE1", "EH1", "L1", "NG1", "SE1"]
STORES = ["store-01-london", "store-02-manchester", "store-03-leeds", "store-04-glasgow"]
# The names customers know the stores by (CONSENTRY_LOCATIONS of the demo's server).
STORE_NAMES = {
    "store-01-london": "London, Oxford Street",
    "store-02-manchester": "Manchester, Market Street",
    "store-03-leeds": "Leeds, Briggate",
    "store-04-glasgow": "Glasgow, Buchanan Street",
}


def build_demo(hub: Hub, count: int, progress: Callable[[int], None]) -> str:
    rng = random.Random(2026)
    admin = Caller("demo", "demo", frozenset({Scope.ADMIN.value}), frozenset({ALL_PURPOSES}))
    now = hub.now()
    real_clock = hub.clock
    with hub.db.write() as conn:
        for purpose in PURPOSES:
            purposes.create(hub, conn, purpose)
    questions.load(hub, read_bank(QUESTIONS))
    bank_in_order = sorted(questions.bank_now(hub), key=lambda q: (q.stage, q.position))
    skus = demo_shop.load_catalogue(hub, rng)
    answered = 0
    records = 0
    purchases = 0
    batch = 250
    for start in range(0, count, batch):
        pending: list[dict[str, Any]] = []
        with hub.db.write() as conn:
            for n in range(start, min(count, start + batch)):
                first, last = rng.choice(FIRST), rng.choice(LAST)
                area = rng.choice(AREAS)
                body = CustomerCreate(
                    identifiers=Identifiers(
                        email=f"{first}.{last}.{n}@example.com".lower(),
                        loyalty_card=f"600{n:07d}",
                        phone=f"+4477009{n:05d}" if rng.random() < 0.6 else None,
                    ),
                    name=f"{first} {last}",
                    postcode=f"{area} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}"
                    f"{rng.choice('LNPQRSTU')}",
                )
                cid = customers.create(hub, conn, body)["id"]
                joined = now - timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1440))
                conn.execute(
                    update(customer_table)
                    .where(customer_table.c.id == cid)
                    .values(created_at=to_micros(joined))
                )
                # The first two customers (the demo's links) have agreed to be asked.
                records += _history(hub, conn, admin, cid, rng, now, joined, n < 2)
                # Answers came in over the last two months (the console charts them by day).
                tenure = max(0, min(60, (now - joined).days))
                asked_on = now - timedelta(days=rng.randint(0, tenure), hours=rng.randint(0, 9))
                hub.clock = _fixed(asked_on)
                try:
                    answered += _answers(hub, conn, admin, cid, rng, bank_in_order, n)
                finally:
                    hub.clock = real_clock
                if f"600{n:07d}" not in STORIES:
                    pending += demo_shop.year_of_purchases(rng, cid, skus, now, joined)
        purchases += demo_shop.send(hub, pending)
        progress(min(batch, count - start))
    # A notice change that asks everyone to agree again: earlier partner grants turn stale.
    with hub.db.write() as conn:
        purposes.update(
            hub,
            conn,
            "partner_offers",
            PurposeUpdate(
                description="We pass offers from partner brands on to you, now including our "
                "travel partners. We never sell or give your data to them.",
                reconsent=True,
            ),
        )
    if count >= len(STORIES):
        records += _stories(hub, admin, now, skus)
    submissions = demo_collection.build(hub, admin, rng, now, max(30, count // 5))
    learnt = demo_shop.learn(hub)
    decided = _decisions(hub, rng, now, real_clock)
    hub.sequencer.integrate_all()
    return (
        f"{len(PURPOSES)} purposes, {len(bank_in_order)} questions, {count} customers, "
        f"{records} evidence records, {answered} answers, {purchases} purchases, "
        f"{sum(len(v) for v in skus.values())} products, {learnt['rules']} complement rules, "
        f"{decided} offer decisions, 2 collection points with {submissions} submissions"
    )


def _fixed(when: datetime) -> Callable[[], datetime]:
    return lambda: when


def _decisions(
    hub: Hub, rng: random.Random, now: datetime, real_clock: Callable[[], datetime]
) -> int:
    """A month of apps asking which offers to show: a quarter of the customers on one to three
    days, by e-mail or in the app; now and then one says "not relevant"."""
    with hub.db.read() as conn:
        ids = list(conn.execute(select(customer_table.c.id)).scalars())
    decided = 0
    try:
        for cid in rng.sample(ids, len(ids) // 4):
            for _ in range(rng.randint(1, 3)):
                when = now - timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 8))
                hub.clock = _fixed(when)
                channel = rng.choice([OfferChannel.EMAIL, OfferChannel.IN_APP])
                made = decisions.decide_for(hub, "demo", cid, DecisionIn(channel=channel))
                decided += 1
                if made["offers"] and rng.random() < 0.08:
                    with hub.db.write() as conn:
                        decisions.set_dismissed(hub, conn, cid, made["offers"][0]["id"], True)
    finally:
        hub.clock = real_clock
    return decided


# The demo's stories, by loyalty card: what each customer did, and what the offers show.
STORIES = {
    "6000000001": "running shoes: offered socks that go with them, never the shoes again",
    "6000000002": "bought pregnancy vitamins, never told us: no baby offer, ever",
    "6000000003": "bought a toy car as a gift and excluded it: no batteries for it",
    "6000000004": "told us she is expecting and granted maternity offers: a baby offer, explained",
}


def _stories(hub: Hub, admin: Caller, now: datetime, skus: dict[str, list[str]]) -> int:
    """Consents, answers and purchases that make the demo's stories (see STORIES)."""
    ids = {card: customers.find(hub, CustomerLookup(loyalty_card=card)) for card in STORIES}
    web = Actor(type=ActorType.CUSTOMER)
    records = 0
    with hub.db.write() as conn:
        for card, purposes in (
            ("6000000001", ["personalisation", "profiling"]),
            ("6000000002", ["personalisation", "profiling"]),
            ("6000000003", ["personalisation", "profiling"]),
            ("6000000004", ["personalisation", "maternity"]),
        ):
            for purpose in purposes:
                records += _record(
                    hub,
                    conn,
                    admin,
                    str(ids[card]),
                    purpose,
                    "web" if purpose == "maternity" else None,
                    Action.GRANT,
                    Source.WEB,
                    web,
                    None,
                    {"method": "preference-centre"},
                    now - timedelta(days=20),
                )
        # The tour's key moment: she has the newsletter by e-mail, so that her "no more
        # e-mails" at the till turns the very next check from yes to no.
        records += _record(
            hub,
            conn,
            admin,
            str(ids["6000000001"]),
            "newsletter",
            "email",
            Action.GRANT,
            Source.WEB,
            web,
            None,
            {"method": "checkbox"},
            now - timedelta(days=2),
        )
        profiling.answer(
            hub,
            conn,
            admin,
            str(ids["6000000001"]),
            "interests",
            ["running", "cooking"],
            AskChannel.WEB,
            web,
        )
        profiling.answer(
            hub, conn, admin, str(ids["6000000004"]), "expecting_baby", True, AskChannel.WEB, web
        )
    day = timedelta(days=1)

    def bought(card: str, category: str, days_ago: int, gift: bool = False) -> dict[str, Any]:
        return {
            "id": f"demo-{card}-{category}-{days_ago}",
            "customer": str(ids[card]),
            "type": "purchase",
            "time": (now - days_ago * day).isoformat(),
            "sku": skus[category][0 if not gift else 7],
            "category": category,
            "quantity": 1,
            "store": "store-01-london",
        }

    demo_shop.send(
        hub,
        [
            bought("6000000001", "sport/running/shoes", 5),
            bought("6000000001", "food/coffee", 40),
            bought("6000000002", "baby/vitamins", 10),
            bought("6000000002", "pharmacy/tests", 10),
            bought("6000000002", "food/snacks", 10),
            bought("6000000003", "toys/cars", 4, gift=True),
            bought("6000000003", "kitchen/pans", 30),
        ],
    )
    gift = next(
        e for e in events.of_customer(hub, str(ids["6000000003"])) if e["category"] == "toys/cars"
    )
    events.set_excluded(hub, str(ids["6000000003"]), gift["id"], True)
    # The runner walks into the London store now: its desk sees her, with the offer and why.
    visit = {
        "customer": str(ids["6000000001"]),
        "type": "store_visit",
        "time": now.isoformat(),
        "store": "store-01-london",
    }
    demo_shop.send(hub, [visit])
    return records


def _answers(
    hub: Hub,
    conn: Connection,
    admin: Caller,
    cid: str,
    rng: random.Random,
    bank: list[Question],
    n: int,
) -> int:
    """Customers at every stage: many told us nothing yet, some a little, a few a lot."""
    wanted = [0, 3][n] if n < 2 else rng.choices([0, 2, 4, 10], weights=[45, 25, 20, 10])[0]
    given: dict[str, Any] = {}
    for question in bank:
        if len(given) >= wanted:
            break
        if any(
            p.question not in given
            or (p.answered_with and not p.answered_with & tokens(given[p.question]))
            for p in question.requires
        ):
            continue
        if question.sensitive or rng.random() < 0.25:
            continue  # sensitive facts are only ever told by the customer, in the centre
        value = _some_answer(question, rng)
        channel = rng.choice(sorted(question.channels))
        actor = (
            Actor(type=ActorType.STAFF, id=f"clerk-{rng.randint(1, 40)}")
            if channel in (AskChannel.STORE, AskChannel.CHECKOUT)
            else Actor(type=ActorType.CUSTOMER)
        )
        profiling.answer(hub, conn, admin, cid, question.id, value, channel, actor)
        given[question.id] = value
    return len(given)


def _some_answer(question: Question, rng: random.Random) -> Any:
    values = [o.value for o in question.options]
    kind = question.kind
    if kind is QuestionKind.SINGLE_CHOICE:
        return rng.choice(values)
    if kind is QuestionKind.MULTIPLE_CHOICE:
        return rng.sample(values, rng.randint(1, min(3, len(values))))
    if kind is QuestionKind.YES_NO:
        return rng.random() < 0.5
    if kind is QuestionKind.DATE:
        return f"2027-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind is QuestionKind.MONTH:
        return f"2027-{rng.randint(1, 12):02d}"
    return rng.choice(["A bike", "A new sofa", "Our wedding", "A trip to see family"])


def _history(
    hub: Hub,
    conn: Connection,
    admin: Caller,
    cid: str,
    rng: random.Random,
    now: datetime,
    joined: datetime,
    asked_ok: bool,
) -> int:
    """Joined some time in the last two years; consented at a till, online or on the phone;
    some changed their minds later."""
    source = rng.choices(
        [Source.WEB, Source.STORE, Source.CALL_CENTRE, Source.APP], weights=[5, 4, 1, 2]
    )[0]
    actor = (
        Actor(type=ActorType.STAFF, id=f"clerk-{rng.randint(1, 40)}")
        if source in (Source.STORE, Source.CALL_CENTRE)
        else Actor(type=ActorType.CUSTOMER)
    )
    location = rng.choice(STORES) if source is Source.STORE else None
    proof = {
        "method": {
            "web": "checkbox",
            "app": "toggle",
            "store": "tablet-signature",
            "call_centre": "recorded-call",
        }[source.value]
    }
    changes: list[tuple[str, str | None, Action]] = []
    if rng.random() < 0.7:
        changes.append(("newsletter", "email", Action.GRANT))
    if rng.random() < 0.3:
        changes.append(("newsletter", "sms", Action.GRANT))
    if rng.random() < 0.5:
        changes.append(("personalisation", None, Action.GRANT))
    if rng.random() < 0.4:
        changes.append(("profiling", None, Action.GRANT))
    if asked_ok or rng.random() < 0.45:
        changes.append(("preferences", None, Action.GRANT))
    if rng.random() < 0.2:
        changes.append(("partner_offers", "email", Action.GRANT))
    if rng.random() < 0.25:
        changes.append(("ad_sharing", "ads", Action.GRANT))
    if source is not Source.STORE and source is not Source.CALL_CENTRE and rng.random() < 0.03:
        changes.append(("maternity", "email", Action.GRANT))
    written = 0
    moment = joined
    for purpose, channel, action in changes:
        written += _record(
            hub, conn, admin, cid, purpose, channel, action, source, actor, location, proof, moment
        )
        moment += timedelta(seconds=rng.randint(2, 30))
    if changes and rng.random() < 0.15:  # later, online: changed their mind
        purpose, channel, _ = rng.choice(changes)
        later = joined + timedelta(days=rng.randint(1, max(1, (now - joined).days)))
        written += _record(
            hub,
            conn,
            admin,
            cid,
            purpose,
            channel,
            Action.WITHDRAW,
            Source.WEB,
            Actor(type=ActorType.CUSTOMER),
            None,
            {"method": "preference-centre"},
            min(later, now),
        )
    if rng.random() < 0.02:
        written += _record(
            hub,
            conn,
            admin,
            cid,
            "postal_catalogue",
            None,
            Action.WITHDRAW,
            Source.CALL_CENTRE,
            Actor(type=ActorType.STAFF, id="agent-7"),
            None,
            {"method": "recorded-call"},
            now - timedelta(days=rng.randint(1, 90)),
        )
    return written


def _record(
    hub: Hub,
    conn: Connection,
    admin: Caller,
    cid: str,
    purpose: str,
    channel: str | None,
    action: Action,
    source: Source,
    actor: Actor,
    location: str | None,
    proof: dict[str, str],
    moment: datetime,
) -> int:
    consents.record_change(
        hub,
        conn,
        admin,
        cid,
        ConsentChange(
            purpose=purpose,
            channel=channel,
            action=action,
            notice_version=1,
            source=source,
            actor=actor,
            location=location,
            captured_at=moment,
            proof=proof,
        ),
    )
    return 1


def demo_centre_link(hub: Hub) -> str:
    """A personal link to the preference centre of the demo's first loyalty-card customer."""
    from consentry.services import web_access

    found = customers.find(hub, CustomerLookup(loyalty_card="6000000001"))
    assert found is not None
    return web_access.create_link(hub, found)["url"]
