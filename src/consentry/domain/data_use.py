"""The data-use policy: which facts about a customer an offer may be chosen from.

Every fact has a provenance:

- *declared*: the customer told us (an answer to a question);
- *observed*: the customer did it (a purchase, a view) and the retailer's systems reported it;
- *derived*: computed from observations (a purchase plus a co-purchase rule learnt over many
  customers: "people who buy running shoes often buy running socks").

Declared facts need the ``personalisation`` consent; observed and derived facts need
``profiling`` as well. A fact about a sensitive topic (maternity, health…) may only be declared,
never observed or derived, and needs the topic's own purpose too. Without any of these only
offers for everyone are chosen. ``permitted`` is the one place this is decided; the decision
engine asks it for every fact it uses, and a property test checks every reason of every
decision against it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Provenance(StrEnum):
    DECLARED = "declared"
    OBSERVED = "observed"
    DERIVED = "derived"


@dataclass(frozen=True)
class Fact:
    """One thing the engine used, told in words the customer understands."""

    provenance: Provenance
    text: str  # "You told us you are into running"
    source: str  # what it came from: "answer:interests", "event:evt_…", "rule:a=>b"
    topic: str | None = None  # the sensitive topic it is about, if any


@dataclass(frozen=True)
class DataUsePolicy:
    personalisation: str = "personalisation"
    profiling: str = "profiling"

    def needs(self, provenance: Provenance, topic_purpose: str | None = None) -> tuple[str, ...]:
        """The purposes a fact of this provenance needs (and its topic's, if sensitive)."""
        needed: tuple[str, ...] = (self.personalisation,)
        if provenance is not Provenance.DECLARED:
            needed += (self.profiling,)
        if topic_purpose is not None:
            needed += (topic_purpose,)
        return needed

    def permitted(
        self, fact: Fact, granted: frozenset[str], topic_purposes: dict[str, str]
    ) -> bool:
        """May this fact be used, given the purposes the customer granted (on this channel)?"""
        if fact.topic is not None:
            if fact.provenance is not Provenance.DECLARED:
                return False  # sensitive facts are never observed or derived
            purpose = topic_purposes.get(fact.topic)
            if purpose is None:
                return False
            return all(p in granted for p in self.needs(fact.provenance, purpose))
        return all(p in granted for p in self.needs(fact.provenance))

    def personal_allowed(self, granted: frozenset[str]) -> bool:
        return self.personalisation in granted
