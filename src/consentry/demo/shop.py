"""The demo retailer's shop: its catalogue (a few thousand products), a year of purchases by
its customers with real co-purchase patterns, and the three stories the offers are built for:
running shoes (socks, not shoes again), a pregnancy (never inferred) and a gift (excluded)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from consentry.schemas.offers import CatalogueIn, ProductIn
from consentry.services import catalogue, complements, events
from consentry.services.catalogue_file import read_catalogue
from consentry.services.hub import Hub

CATALOGUE = Path(__file__).parent.parent / "data" / "demo-catalogue.yaml"
BRANDS = ["Northwind", "Fjord", "Acorn", "Blue Heron", "Kestrel", "Marlow", "Orla", "Tamar"]
STYLES = ["Classic", "Pro", "Lite", "Plus", "Eco", "Max", "Mini", "Sport", "Home", "Studio"]
PRODUCTS_PER_CATEGORY = 60

# Interests, each with the categories its people buy most.
PERSONAS: dict[str, list[str]] = {
    "runner": ["sport/running/shoes", "sport/running/clothing", "sport/running/watches"],
    "cyclist": ["sport/cycling/bikes", "sport/cycling/lights", "sport/cycling/helmets"],
    "yogi": ["sport/yoga/mats", "sport/yoga/clothing"],
    "cook": ["kitchen/pans", "kitchen/coffee_machines", "kitchen/kettles", "books/cookery"],
    "gardener": ["garden/tools", "garden/seeds", "garden/furniture"],
    "parent": ["toys/cars", "toys/puzzles", "toys/games"],
    "pet_owner": ["pets/dog_food", "pets/cat_food"],
    "gamer": ["gaming/consoles", "gaming/games"],
    "traveller": ["travel/luggage", "beauty/suncare"],
    "reader": ["books/fiction", "food/tea"],
}
EVERYDAY = ["food/coffee", "food/tea", "food/snacks", "home/storage", "home/lighting"]
# What goes in the same basket: (bought, also bought, how often).
TOGETHER = [
    ("sport/running/shoes", "sport/running/socks", 0.6),
    ("sport/running/shoes", "sport/running/clothing", 0.25),
    ("sport/cycling/bikes", "sport/cycling/helmets", 0.6),
    ("sport/cycling/bikes", "sport/cycling/lights", 0.5),
    ("sport/yoga/mats", "sport/yoga/clothing", 0.5),
    ("kitchen/coffee_machines", "food/coffee", 0.7),
    ("kitchen/pans", "kitchen/knives", 0.4),
    ("toys/cars", "home/batteries", 0.55),
    ("gaming/consoles", "gaming/controllers", 0.6),
    ("gaming/consoles", "gaming/games", 0.7),
    ("travel/luggage", "travel/adapters", 0.5),
    ("travel/luggage", "beauty/suncare", 0.3),
    ("pets/dog_food", "pets/toys", 0.4),
    ("pets/cat_food", "pets/toys", 0.3),
    # Bought together too — but sensitive: never learnt from, never a reason.
    ("baby/vitamins", "pharmacy/tests", 0.4),
    ("baby/nappies", "baby/clothing", 0.5),
]


def load_catalogue(hub: Hub, rng: random.Random) -> dict[str, list[str]]:
    """The demo catalogue file plus generated products; the SKUs of each category."""
    parsed = read_catalogue(CATALOGUE)
    assert parsed.catalogue is not None
    leaves = [
        c
        for c in parsed.catalogue.categories
        if not any(o.path.startswith(c.path + "/") for o in parsed.catalogue.categories)
    ]
    products = []
    by_category: dict[str, list[str]] = {}
    for leaf in leaves:
        code = "-".join(leaf.path.split("/")[-2:]).upper().replace("_", "-")
        for n in range(PRODUCTS_PER_CATEGORY):
            sku = f"{code}-{n + 1:03d}"
            name = f"{rng.choice(BRANDS)} {leaf.name.lower()} {rng.choice(STYLES)} {n + 1}"
            products.append(
                ProductIn(
                    sku=sku,
                    name=name,
                    category=leaf.path,
                    price=round(rng.uniform(3, 300), 2),
                )
            )
            by_category.setdefault(leaf.path, []).append(sku)
    body = CatalogueIn(
        categories=parsed.catalogue.categories,
        sensitive_topics=parsed.catalogue.sensitive_topics,
        products=products,
    )
    _, problems = catalogue.load(hub, body, parsed.offers, parsed.triggers)
    assert not problems, problems
    return by_category


def year_of_purchases(
    rng: random.Random,
    customer_id: str,
    skus: dict[str, list[str]],
    now: datetime,
    joined: datetime,
) -> list[dict[str, Any]]:
    """Between 2 and 20 baskets over the last year (since they joined), shaped by one or two
    interests."""
    days = max(1, min(365, (now - joined).days))
    personas = rng.sample(sorted(PERSONAS), rng.choice([1, 1, 2]))
    if rng.random() < 0.02:
        personas.append("expecting")
    bought: list[dict[str, Any]] = []
    for _ in range(rng.randint(2, 20)):
        when = now - timedelta(days=rng.randint(1, days), minutes=rng.randint(0, 720))
        persona = rng.choice(personas)
        anchor = (
            rng.choice(["baby/vitamins", "baby/nappies"])
            if persona == "expecting"
            else rng.choice(PERSONAS[persona])
        )
        basket = [anchor]
        basket += [b for a, b, p in TOGETHER if a == anchor and rng.random() < p]
        if rng.random() < 0.5:
            basket.append(rng.choice(EVERYDAY))
        store = rng.choice(["store-01-london", "store-02-manchester", "store-03-leeds", "web"])
        for category in basket:
            bought.append(
                {
                    "customer": customer_id,
                    "type": "purchase",
                    "time": when.isoformat(),
                    "sku": rng.choice(skus[category]),
                    "category": category,
                    "quantity": 1,
                    "store": store,
                }
            )
    return bought


def send(hub: Hub, pending: list[dict[str, Any]]) -> int:
    accepted = 0
    for start in range(0, len(pending), 10_000):
        answer = events.ingest(hub, pending[start : start + 10_000])
        assert not answer["errors"], answer["errors"][:3]
        accepted += int(answer["accepted"])
    return accepted


def learn(hub: Hub) -> dict[str, Any]:
    return complements.learn(hub)
