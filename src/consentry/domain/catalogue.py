"""What the retailer sells and offers: a category tree with its sensitive branches marked,
products, and offers with the conditions under which they may be chosen.

Categories are paths ("sport/running/shoes"); a category is sensitive when it or one of its
ancestors names a sensitive topic (pharmacy, maternity, health, adult…). A sensitive topic says
which purpose the customer must have granted and which answer declares it: nothing in a
sensitive branch is ever derived from what someone bought, and an offer about it goes only to a
customer who told us themself.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Category:
    path: str
    name: str
    sensitive_topic: str | None = None


@dataclass(frozen=True)
class SensitiveTopic:
    """A topic only the customer can open: by granting ``purpose`` and answering ``question``
    with one of ``answered_with``."""

    id: str
    purpose: str
    question: str
    answered_with: frozenset[str]


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    price: float | None = None


@dataclass(frozen=True)
class AnswerMatch:
    """ "Chosen for customers who answered ``question`` with one of ``values``" (any answer
    when ``values`` is empty)."""

    question: str
    values: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Lead:
    """An offer for an intention with a date: relevant from ``days`` before the date the
    customer gave in answer to ``question`` until that date (sun cream before the beach
    holiday, not after)."""

    question: str
    days: int


@dataclass(frozen=True)
class Offer:
    id: str
    title: str
    category: str
    channels: frozenset[str]
    text: str = ""
    sku: str | None = None
    valid_from: int | None = None  # microseconds since the epoch
    valid_until: int | None = None
    tags: tuple[str, ...] = ()
    sensitive_topic: str | None = None
    cap_per_customer: int | None = None
    # Shown to anyone (best sellers, the season): needs no personal fact at all.
    everyone: bool = False
    for_answers: tuple[AnswerMatch, ...] = ()
    ahead_of: Lead | None = None
    stores: frozenset[str] = frozenset()
    active: bool = True
    position: int = 0

    def valid_at(self, now: int) -> bool:
        return (self.valid_from is None or self.valid_from <= now) and (
            self.valid_until is None or now < self.valid_until
        )


def ancestors(path: str) -> list[str]:
    """``a/b/c`` → ``["a/b/c", "a/b", "a"]``."""
    parts = path.split("/")
    return ["/".join(parts[:n]) for n in range(len(parts), 0, -1)]


def within(path: str, branch: str) -> bool:
    """Is ``path`` the category ``branch`` or below it?"""
    return path == branch or path.startswith(branch + "/")


@dataclass
class Catalogue:
    categories: dict[str, Category] = field(default_factory=dict)
    topics: dict[str, SensitiveTopic] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    offers: list[Offer] = field(default_factory=list)

    def category_for(self, sku: str | None, reported: str | None) -> str | None:
        """What a purchase counts as: for a SKU the catalogue knows, the catalogue's category,
        whatever the till reported (pregnancy vitamins reported as "food/snacks" stay what
        they are, and stay sensitive); otherwise the reported one."""
        product = self.products.get(sku or "")
        return product.category if product is not None else reported

    def contradicts(self, sku: str | None, reported: str | None) -> bool:
        """An event reports a known SKU under another category than the catalogue's."""
        product = self.products.get(sku or "")
        return product is not None and reported is not None and reported != product.category

    def topic_of(self, category: str | None) -> str | None:
        """The sensitive topic of a category (its own or an ancestor's), if any."""
        if not category:
            return None
        for path in ancestors(category):
            found = self.categories.get(path)
            if found is not None and found.sensitive_topic:
                return found.sensitive_topic
        return None

    def offer_topic(self, offer: Offer) -> str | None:
        """An offer is sensitive when it says so or when its category is."""
        return offer.sensitive_topic or self.topic_of(offer.category)

    def name_of(self, category: str) -> str:
        found = self.categories.get(category)
        return found.name if found else category.rsplit("/", 1)[-1].replace("_", " ")
