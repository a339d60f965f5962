"""Property: no decision ever uses a fact the data-use policy forbids.

Random consents, answers, purchases (sensitive ones among them) and dismissals go into the
engine; every reason of every chosen offer is checked against the policy as the issue states it,
written out here independently of ``DataUsePolicy``: declared facts need personalisation,
observed and derived facts need profiling too, a sensitive topic is only ever declared and needs
its own purpose; nothing dismissed, just bought or over a cap is chosen."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from consentry.domain.catalogue import (
    AnswerMatch,
    Catalogue,
    Category,
    Lead,
    Offer,
    Product,
    SensitiveTopic,
)
from consentry.domain.clock import to_micros
from consentry.domain.complements import Complement, learn
from consentry.domain.consent import MICROS_PER_DAY
from consentry.domain.data_use import DataUsePolicy, Provenance
from consentry.domain.decisions import Bought, Declared, Known, Rules, Situation, choose

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)
CATEGORIES = [
    "sport/running/shoes",
    "sport/running/socks",
    "kitchen/pans",
    "toys/cars",
    "home/batteries",
    "baby/vitamins",
    "baby/nappies",
    "pharmacy/tests",
]
CATALOGUE = Catalogue(
    categories={
        "baby": Category("baby", "Baby", "maternity"),
        "pharmacy": Category("pharmacy", "Pharmacy", "health"),
        **{c: Category(c, c.rsplit("/", 1)[-1]) for c in CATEGORIES},
    },
    topics={
        "maternity": SensitiveTopic("maternity", "maternity", "expecting", frozenset({"yes"})),
        "health": SensitiveTopic("health", "health", "condition", frozenset({"yes"})),
    },
    products={f"SKU-{i}": Product(f"SKU-{i}", f"item {i}", c) for i, c in enumerate(CATEGORIES)},
    offers=[
        Offer(
            id=f"offer-{i}-{kind}",
            title=f"offer {i}",
            category=c,
            channels=frozenset({"email", "in_app"}),
            sku=f"SKU-{i}" if kind == "sku" else None,
            everyone=kind == "everyone" and not c.startswith(("baby", "pharmacy")),
            for_answers=(AnswerMatch("interests", frozenset({"a", "b"})),)
            if kind == "answer"
            else (),
            ahead_of=Lead("trip", 30) if kind == "lead" else None,
            cap_per_customer=2 if kind == "sku" else None,
            position=i,
        )
        for i, c in enumerate(CATEGORIES)
        for kind in ("sku", "everyone", "answer", "lead", "plain")
    ],
)
# Complements between every pair, sensitive ones included: the engine must refuse those.
RULES = {a: [Complement(a, b, 50, 0.5, 2.0) for b in CATEGORIES if b != a] for a in CATEGORIES}
PURPOSES = ["personalisation", "profiling", "maternity", "health"]
POLICY = DataUsePolicy()


def _declared() -> st.SearchStrategy[Declared]:
    return st.one_of(
        st.builds(
            lambda v: Declared("interests", "What are you into?", frozenset(v), ",".join(v)),
            st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2),
        ),
        st.builds(
            lambda d: Declared("trip", "When?", frozenset({d.isoformat()}), d.isoformat(), when=d),
            st.dates(date(2026, 10, 1), date(2027, 3, 1)),
        ),
        st.builds(
            lambda yes, topic, q: Declared(
                q, q, frozenset({"yes" if yes else "no"}), "yes", topic=topic
            ),
            st.booleans(),
            st.sampled_from(["maternity", "health"]),
            st.sampled_from(["expecting", "condition"]),
        ),
    )


def _bought() -> st.SearchStrategy[Bought]:
    return st.builds(
        lambda i, days, basket: Bought(
            f"basket:SKU-{i}" if basket else f"event:e{i}-{days}",
            f"SKU-{i}",
            CATEGORIES[i],
            f"item {i}",
            to_micros(NOW) - days * MICROS_PER_DAY,
        ),
        st.integers(0, len(CATEGORIES) - 1),
        st.integers(0, 120),
        st.booleans(),
    )


@settings(max_examples=700, deadline=None)
@given(
    granted=st.frozensets(st.sampled_from(PURPOSES)),
    declared=st.lists(_declared(), max_size=4, unique_by=lambda d: d.question),
    bought=st.lists(_bought(), max_size=6),
    dismissed=st.frozensets(st.sampled_from([o.id for o in CATALOGUE.offers]), max_size=6),
    shown=st.dictionaries(st.sampled_from([o.id for o in CATALOGUE.offers]), st.integers(0, 3)),
    channel=st.sampled_from(["email", "in_app"]),
    hour=st.integers(0, 23),
    sends=st.integers(0, 3),
    limit=st.integers(1, 8),
)
def test_no_decision_uses_a_forbidden_fact(
    granted: frozenset[str],
    declared: list[Declared],
    bought: list[Bought],
    dismissed: frozenset[str],
    shown: dict[str, int],
    channel: str,
    hour: int,
    sends: int,
    limit: int,
) -> None:
    now = to_micros(NOW)
    rules = Rules(
        channel_cap=(2, 7) if channel == "email" else None,
        quiet_hours=(21, 8) if channel == "in_app" else None,
    )
    known = Known(granted, declared, bought, dismissed, shown, sends)
    local = NOW.replace(hour=hour)
    choice = choose(CATALOGUE, RULES, POLICY, known, Situation(now, channel, local), rules, limit)
    quiet = channel == "in_app" and (hour >= 21 or hour < 8)
    capped = channel == "email" and sends >= 2
    if quiet or capped:
        assert choice.offers == () and choice.empty_because
        return
    assert len(choice.offers) <= limit
    assert len({c.offer.category for c in choice.offers}) == len(choice.offers)
    recent = [b for b in bought if b.at >= now - 30 * MICROS_PER_DAY]
    for chosen in choice.offers:
        offer = chosen.offer
        assert offer.id not in dismissed
        assert offer.cap_per_customer is None or shown.get(offer.id, 0) < offer.cap_per_customer
        assert not any(b.sku == offer.sku for b in recent if offer.sku)
        assert not any(b.category == offer.category for b in recent)
        assert chosen.reasons
        topic = CATALOGUE.offer_topic(offer)
        if topic is not None:
            # Sensitive: declared by the customer, and the topic's own purpose granted.
            assert CATALOGUE.topics[topic].purpose in granted
            assert any(d.topic == topic and "yes" in d.values for d in declared), (
                "a sensitive offer without the customer's own declaration"
            )
        for reason in chosen.reasons:
            if not reason.facts:
                assert offer.everyone and topic is None
            for fact in reason.facts:
                assert "personalisation" in granted
                if fact.provenance is not Provenance.DECLARED:
                    assert "profiling" in granted
                    assert fact.topic is None
                    if fact.provenance is Provenance.OBSERVED:
                        bought_it = next(b for b in bought if b.source == fact.source)
                        assert CATALOGUE.topic_of(bought_it.category) is None
                    else:
                        consequent = fact.source.split("=>")[1]
                        assert CATALOGUE.topic_of(consequent) is None
                if fact.topic is not None:
                    assert CATALOGUE.topics[fact.topic].purpose in granted
                assert set(reason.allowed_by) <= granted


def test_complements_need_enough_distinct_customers() -> None:
    baskets = [(f"c{i}", frozenset({"shoes", "socks"})) for i in range(9)]
    baskets += [(f"d{i}", frozenset({"pans"})) for i in range(20)]
    # The same customer buying shoes and socks a hundred times is still one customer.
    baskets += [("c0", frozenset({"shoes", "socks"}))] * 100
    assert learn(baskets, min_customers=10) == []
    rules = learn(baskets, min_customers=9)
    shoes_socks = next(r for r in rules if (r.antecedent, r.consequent) == ("shoes", "socks"))
    assert shoes_socks.customers == 9
    assert shoes_socks.confidence == 1.0
    assert shoes_socks.lift == round(1 / (9 / 29), 3)


def test_an_intention_is_relevant_only_before_its_date() -> None:
    offer = Offer("sun", "Sun cream", "beauty/sun", frozenset({"email"}), ahead_of=Lead("trip", 30))
    catalogue = Catalogue(offers=[offer])
    for days_to_go, chosen in ((45, False), (30, True), (0, True), (-1, False)):
        trip = (NOW + timedelta(days=days_to_go)).date()
        known = Known(
            frozenset({"personalisation"}),
            [Declared("trip", "When?", frozenset(), trip.isoformat(), when=trip)],
        )
        choice = choose(
            catalogue, {}, POLICY, known, Situation(to_micros(NOW), "email", NOW), Rules(), 3
        )
        assert bool(choice.offers) is chosen, days_to_go
