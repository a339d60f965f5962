"""Complements learnt from baskets: "customers who buy A often buy B in the same basket".

Counted per *customer*, not per basket: a rule's support is the number of distinct customers
who ever bought A and B together, and a rule needs at least ``min_customers`` of them so that no
rule describes a handful of people (a rule learnt from three baskets of one family would let its
offers point back at them). Confidence is P(B | A) over customers, lift is confidence over
P(B): lift above 1 means A makes B more likely than it is anyway. Baskets only ever hold
non-sensitive categories (the caller drops the others before they get here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import permutations


@dataclass(frozen=True)
class Complement:
    antecedent: str  # the category bought
    consequent: str  # the category that goes with it
    customers: int  # distinct customers who bought both in one basket
    confidence: float
    lift: float


def learn(
    baskets: Iterable[tuple[str, frozenset[str]]],
    *,
    min_customers: int,
    min_lift: float = 1.2,
    min_confidence: float = 0.05,
) -> list[Complement]:
    """Rules from ``(customer, categories of one basket)`` pairs, strongest first."""
    per_customer_items: dict[str, set[str]] = {}
    per_customer_pairs: dict[str, set[tuple[str, str]]] = {}
    for customer, categories in baskets:
        per_customer_items.setdefault(customer, set()).update(categories)
        if len(categories) > 1:
            per_customer_pairs.setdefault(customer, set()).update(permutations(categories, 2))
    total = len(per_customer_items)
    if total == 0:
        return []
    items: Counter[str] = Counter()
    for bought in per_customer_items.values():
        items.update(bought)
    pairs: Counter[tuple[str, str]] = Counter()
    for together in per_customer_pairs.values():
        pairs.update(together)
    rules = []
    for (a, b), both in pairs.items():
        if both < min_customers:
            continue
        confidence = both / items[a]
        lift = confidence / (items[b] / total)
        if lift >= min_lift and confidence >= min_confidence:
            rules.append(Complement(a, b, both, round(confidence, 4), round(lift, 3)))
    rules.sort(key=lambda r: (-r.lift * r.confidence, r.antecedent, r.consequent))
    return rules
