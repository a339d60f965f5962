"""The decision engine: which offers, for whom, and why — with tact.

``choose`` is pure: it gets the catalogue, what the customer allowed and what we know of them
(each fact with its provenance), and returns ranked offers, each with the reasons that chose
it, or nothing with the reason why nothing. The rules, in the order they apply:

1. Quiet hours and the channel's frequency cap: inside either, nothing is chosen.
2. An offer must be active, valid now, for this channel (and this store, if it names stores).
3. Suppressed: offers the customer dismissed, offers shown to them ``cap_per_customer`` times,
   the product they just bought (or have in the basket), and substitutes in the same category
   for a cool-down. (Suppression only removes offers; it never chooses one.)
4. An offer is chosen only for reasons whose every fact the data-use policy permits
   (``DataUsePolicy.permitted``): declared answers it asks for, a dated intention it leads up
   to, complements of recent purchases — or because it is for everyone. An offer that leads up
   to a date is chosen only in its window before that date (never after it).
5. A sensitive offer (its topic, or its category's) needs the customer's own declaration of
   that topic and the topic's purpose; nothing observed or derived ever counts for it.
6. Ranked by the weight of its reasons; one offer per category, so one purchase does not
   bring five offers for socks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from consentry.domain.catalogue import Catalogue, Offer, within
from consentry.domain.clock import from_micros
from consentry.domain.complements import Complement
from consentry.domain.consent import MICROS_PER_DAY
from consentry.domain.data_use import DataUsePolicy, Fact, Provenance

# How much each kind of reason counts; a dated intention is the most telling, an offer for
# everyone the least.
LEAD_WEIGHT = 5.0
ANSWER_WEIGHT = 3.0
COMPLEMENT_WEIGHT = 1.0
SIGNAL_WEIGHT = 2.0
EVERYONE_WEIGHT = 0.5


@dataclass(frozen=True)
class Declared:
    """One answer the customer gave."""

    question: str
    question_text: str
    values: frozenset[str]  # the answer's tokens ("yes", option values)
    shown: str  # the answer in words
    when: date | None = None  # for date and month answers
    topic: str | None = None  # the sensitive topic this answer declares, if any


@dataclass(frozen=True)
class Bought:
    """A purchase (or an item in the current basket) the customer did not exclude."""

    source: str  # "event:<id>" or "basket:<sku>"
    sku: str | None
    category: str | None
    name: str
    at: int


@dataclass(frozen=True)
class Signal:
    """Something the customer is doing now that a trigger noticed (three views of a category):
    an observed fact that makes offers in or around that category relevant."""

    category: str
    fact: Fact


@dataclass(frozen=True)
class Rules:
    """The tactful limits, from the settings."""

    substitute_cooldown_days: int = 30
    complement_days: int = 60
    # (at most this many decisions with offers, in this many days) for the channel, if capped.
    channel_cap: tuple[int, int] | None = None
    # (from hour, to hour) in the customer's local time, for channels that interrupt.
    quiet_hours: tuple[int, int] | None = None


@dataclass(frozen=True)
class Situation:
    now: int
    channel: str
    local_time: datetime
    store: str | None = None


@dataclass
class Known:
    """What the customer allowed and what we know about them."""

    granted: frozenset[str]
    declared: list[Declared] = field(default_factory=list)
    bought: list[Bought] = field(default_factory=list)
    dismissed: frozenset[str] = frozenset()
    shown: dict[str, int] = field(default_factory=dict)  # offer id → times chosen for them
    sends_in_cap_window: int = 0
    signals: list[Signal] = field(default_factory=list)


@dataclass(frozen=True)
class Reason:
    text: str
    facts: tuple[Fact, ...]
    allowed_by: tuple[str, ...]  # the purposes whose consent allowed these facts' use
    weight: float


@dataclass(frozen=True)
class Chosen:
    offer: Offer
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Choice:
    offers: tuple[Chosen, ...]
    empty_because: str | None
    suppressed: dict[str, int]
    empty_kind: str | None = None  # quiet_hours, channel_cap or nothing_fits (for the counts)
    considered: int = 0  # offers in date and on the channel, before suppression


def choose(
    catalogue: Catalogue,
    complements: dict[str, list[Complement]],
    policy: DataUsePolicy,
    known: Known,
    situation: Situation,
    rules: Rules,
    limit: int,
) -> Choice:
    quiet = _quiet(rules, situation)
    if quiet is not None:
        return Choice((), quiet, {}, "quiet_hours")
    if rules.channel_cap is not None and known.sends_in_cap_window >= rules.channel_cap[0]:
        count, days = rules.channel_cap
        return Choice(
            (),
            f"capped: {known.sends_in_cap_window} decisions with offers on {situation.channel} "
            f"in the last {days} days (at most {count})",
            {},
            "channel_cap",
        )
    topic_purposes = {t.id: t.purpose for t in catalogue.topics.values()}
    suppressed: Counter[str] = Counter()
    candidates: list[Chosen] = []
    considered = 0
    for offer in catalogue.offers:
        if not _eligible(offer, situation):
            continue
        considered += 1
        why_not = _suppressed(offer, known, situation, rules)
        if why_not is not None:
            suppressed[why_not] += 1
            continue
        reasons = _reasons(offer, catalogue, complements, policy, known, situation, rules)
        reasons = [
            r
            for r in reasons
            if all(policy.permitted(f, known.granted, topic_purposes) for f in r.facts)
        ]
        if not reasons:
            suppressed["no_permitted_reason"] += 1
            continue
        score = round(sum(r.weight for r in reasons), 4)
        candidates.append(Chosen(offer, score, tuple(reasons)))
    candidates.sort(key=lambda c: (-c.score, c.offer.position, c.offer.id))
    chosen: list[Chosen] = []
    categories: set[str] = set()
    for candidate in candidates:
        if len(chosen) >= limit:
            break
        if candidate.offer.category in categories:
            suppressed["same_category"] += 1
            continue
        categories.add(candidate.offer.category)
        chosen.append(candidate)
    empty = None if chosen else "no offer fits what this customer allowed us to use"
    kind = None if chosen else "nothing_fits"
    return Choice(tuple(chosen), empty, dict(suppressed), kind, considered)


def _quiet(rules: Rules, situation: Situation) -> str | None:
    if rules.quiet_hours is None:
        return None
    start, end = rules.quiet_hours
    hour = situation.local_time.hour
    inside = start <= hour < end if start < end else hour >= start or hour < end
    if inside:
        return (
            f"quiet hours: nothing on {situation.channel} between {start:02d}:00 and {end:02d}:00"
        )
    return None


def _eligible(offer: Offer, situation: Situation) -> bool:
    return (
        offer.active
        and offer.valid_at(situation.now)
        and situation.channel in offer.channels
        and (not offer.stores or situation.store in offer.stores)
    )


def _suppressed(offer: Offer, known: Known, situation: Situation, rules: Rules) -> str | None:
    if offer.id in known.dismissed:
        return "dismissed"
    if (
        offer.cap_per_customer is not None
        and known.shown.get(offer.id, 0) >= offer.cap_per_customer
    ):
        return "offer_cap"
    cooldown = situation.now - rules.substitute_cooldown_days * MICROS_PER_DAY
    for bought in known.bought:
        if bought.at < cooldown:
            continue
        if offer.sku is not None and bought.sku == offer.sku:
            return "just_bought"
        if bought.category is not None and bought.category == offer.category:
            return "substitute"
    return None


def _reasons(
    offer: Offer,
    catalogue: Catalogue,
    complements: dict[str, list[Complement]],
    policy: DataUsePolicy,
    known: Known,
    situation: Situation,
    rules: Rules,
) -> list[Reason]:
    topic = catalogue.offer_topic(offer)
    reasons: list[Reason] = []
    if topic is not None:
        opened_by = catalogue.topics[topic]
        declaring = [
            d
            for d in known.declared
            if d.topic == topic and d.values & opened_by.answered_with  # "no" opens nothing
        ]
        if not declaring:
            return []  # never from observation, never guessed
        return [
            _declared(
                "You told us, and asked for offers like this", d, policy, catalogue, ANSWER_WEIGHT
            )
            for d in declaring
        ]
    by_question = {d.question: d for d in known.declared}
    if offer.ahead_of is not None:
        lead = _lead(offer, by_question.get(offer.ahead_of.question), policy, catalogue, situation)
        if lead is None:  # before the window or after the date: not relevant at all
            return _everyone(offer)
        reasons.append(lead)
    for match in offer.for_answers:
        given = by_question.get(match.question)
        if given is None or (match.values and not match.values & given.values):
            continue
        reasons.append(
            _declared("It matches what you told us", given, policy, catalogue, ANSWER_WEIGHT)
        )
    reasons += _complement_reasons(offer, catalogue, complements, policy, known, situation, rules)
    reasons += [
        Reason(
            "You were looking at these", (s.fact,), policy.needs(s.fact.provenance), SIGNAL_WEIGHT
        )
        for s in known.signals
        if within(s.category, offer.category) or within(offer.category, s.category)
    ]
    return reasons + _everyone(offer)


def _everyone(offer: Offer) -> list[Reason]:
    if not offer.everyone:
        return []
    tags = f": {', '.join(offer.tags)}" if offer.tags else ""
    return [Reason("Chosen for everyone" + tags, (), (), EVERYONE_WEIGHT)]


def _lead(
    offer: Offer,
    given: Declared | None,
    policy: DataUsePolicy,
    catalogue: Catalogue,
    situation: Situation,
) -> Reason | None:
    """The reason an offer leads up to a date the customer gave, if it is time."""
    assert offer.ahead_of is not None
    if given is None or given.when is None:
        return None
    days_to_go = (given.when - situation.local_time.date()).days
    if not 0 <= days_to_go <= offer.ahead_of.days:
        return None
    return _declared(
        f"In time for the date you gave us ({days_to_go} days to go)",
        given,
        policy,
        catalogue,
        LEAD_WEIGHT,
    )


def _complement_reasons(
    offer: Offer,
    catalogue: Catalogue,
    complements: dict[str, list[Complement]],
    policy: DataUsePolicy,
    known: Known,
    situation: Situation,
    rules: Rules,
) -> list[Reason]:
    since = situation.now - rules.complement_days * MICROS_PER_DAY
    found: list[Reason] = []
    used: set[str] = set()
    for bought in sorted(known.bought, key=lambda b: -b.at):
        if bought.at < since or bought.category is None or bought.category in used:
            continue
        if catalogue.topic_of(bought.category) is not None:
            continue  # a sensitive purchase is never a reason
        for rule in complements.get(bought.category, []):
            if not within(rule.consequent, offer.category) or catalogue.topic_of(rule.consequent):
                continue
            used.add(bought.category)
            observed = Fact(
                Provenance.OBSERVED,
                f"You bought {bought.name}"
                + ("" if bought.source.startswith("basket:") else f" on {_day(bought.at)}"),
                bought.source,
            )
            derived = Fact(
                Provenance.DERIVED,
                f"{rule.customers} customers who bought {catalogue.name_of(rule.antecedent)} "
                f"also bought {catalogue.name_of(rule.consequent)} "
                f"({round(rule.confidence * 100)} % of them, {rule.lift:g} times the usual rate)",
                f"rule:{rule.antecedent}=>{rule.consequent}",
            )
            found.append(
                Reason(
                    f"Goes with the {bought.name} you bought",
                    (observed, derived),
                    policy.needs(Provenance.DERIVED),
                    COMPLEMENT_WEIGHT + min(rule.confidence * rule.lift, 2.0),
                )
            )
            break
    return found


def _declared(
    text: str, given: Declared, policy: DataUsePolicy, catalogue: Catalogue, weight: float
) -> Reason:
    """A reason resting on one answer the customer gave (and on its topic's purpose, if any)."""
    fact = Fact(
        Provenance.DECLARED,
        f"{given.question_text} — {given.shown}",
        f"answer:{given.question}",
        given.topic,
    )
    return Reason(
        text,
        (fact,),
        policy.needs(Provenance.DECLARED, _topic_purpose(catalogue, given.topic)),
        weight,
    )


def _topic_purpose(catalogue: Catalogue, topic: str | None) -> str | None:
    return (
        catalogue.topics[topic].purpose if topic is not None and topic in catalogue.topics else None
    )


def _day(micros: int) -> str:
    return from_micros(micros).strftime("%-d %b %Y")
