"""The catalogue and the offers: loaded through the API or from a file, checked against each
other, the purposes and the question bank, and read by the decision engine through a
per-process cache that notices every change (one version row, bumped by every write)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from consentry.domain.catalogue import (
    AnswerMatch,
    Catalogue,
    Category,
    Lead,
    Offer,
    Product,
    SensitiveTopic,
)
from consentry.domain.catalogue_version import CatalogueVersion
from consentry.domain.clock import to_micros
from consentry.domain.complements import Complement
from consentry.domain.errors import Conflict, InvalidInput, NotFound
from consentry.domain.questions import QuestionKind
from consentry.domain.triggers import Cap, Count, Notify, Then, Trigger, Unless, window_micros
from consentry.schemas.offers import CatalogueIn, OfferIn, TriggersIn
from consentry.services.hub import Hub
from consentry.services.questions import bank
from consentry.store import catalogue as store
from consentry.store import purposes as purpose_store
from consentry.store import triggers as trigger_store
from consentry.store.pagination import check_limit, decode_cursor, encode_cursor

# -- the cache


def current(hub: Hub, conn: Connection) -> CatalogueVersion:
    version = store.version(conn)
    cached = hub.catalogue
    if cached is not None and cached.version == version:
        return cached
    loaded = read(conn, version)
    hub.catalogue = loaded
    return loaded


def read(conn: Connection, version: int) -> CatalogueVersion:
    catalogue = Catalogue(
        categories={
            r.path: Category(r.path, r.name, r.sensitive_topic) for r in store.all_categories(conn)
        },
        topics={
            r.id: SensitiveTopic(r.id, r.purpose, r.question, frozenset(r.answered_with))
            for r in store.all_topics(conn)
        },
        products={
            r.sku: Product(r.sku, r.name, r.category, r.price) for r in store.all_products(conn)
        },
        offers=[offer_of(r) for r in store.all_offers(conn)],
    )
    rules: dict[str, list[Complement]] = {}
    for r in store.all_complements(conn):
        rules.setdefault(r.antecedent, []).append(
            Complement(r.antecedent, r.consequent, r.customers, r.confidence, r.lift)
        )
    for found in rules.values():
        found.sort(key=lambda c: -c.confidence * c.lift)
    triggers = [trigger_of(r.definition) for r in trigger_store.all_triggers(conn)]
    return CatalogueVersion(version, catalogue, rules, triggers)


def offer_of(row: Any) -> Offer:
    d = row.definition
    lead = d.get("ahead_of")
    return Offer(
        id=row.id,
        title=d["title"],
        text=d["text"],
        category=d["category"],
        channels=frozenset(d["channels"]),
        sku=d["sku"],
        valid_from=_micros(d["valid_from"]),
        valid_until=_micros(d["valid_until"]),
        tags=tuple(d["tags"]),
        sensitive_topic=d["sensitive_topic"],
        cap_per_customer=d["cap_per_customer"],
        everyone=d["everyone"],
        for_answers=tuple(
            AnswerMatch(m["question"], frozenset(m["values"])) for m in d["for_answers"]
        ),
        ahead_of=Lead(lead["question"], lead["days"]) if lead else None,
        stores=frozenset(d["stores"]),
        active=bool(row.active),
        position=row.position,
    )


def trigger_of(d: dict[str, Any]) -> Trigger:
    count, unless = d.get("count"), d.get("unless")
    return Trigger(
        id=d["id"],
        on=d["on"],
        then=tuple(
            Then(Notify(t["notify"]), tuple(t["needs"]), t["next_day_at"], t["declared_only"])
            for t in d["then"]
        ),
        category=d.get("category"),
        count=Count(
            count["event"],
            count["at_least"],
            window_micros(count["within"]),
            count["same_category"],
        )
        if count
        else None,
        unless=Unless(unless["event"], window_micros(unless["within"]), unless["same_category"])
        if unless
        else None,
        dedupe=window_micros(d["dedupe"]),
        cap=Cap(d["cap"]["count"], window_micros(d["cap"]["within"])) if d.get("cap") else None,
        description=d.get("description", ""),
    )


def _micros(text: str | None) -> int | None:
    return to_micros(datetime.fromisoformat(text)) if text else None


def offer_json(row: Any) -> dict[str, Any]:
    return {**row.definition, "id": row.id, "active": bool(row.active)}


# -- the catalogue


def _catalogue_problems(hub: Hub, conn: Connection, body: CatalogueIn) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []

    def problem(where: list[Any], message: str) -> None:
        problems.append({"loc": ["body", *where], "msg": message})

    topics = {t.id for t in body.sensitive_topics}
    questions = bank(hub, conn)[1]
    seen: set[str] = set()
    for i, category in enumerate(body.categories):
        if category.path in seen:
            problem(["categories", i, "path"], f"category {category.path!r} appears twice")
        seen.add(category.path)
        if category.sensitive_topic and category.sensitive_topic not in topics:
            problem(
                ["categories", i, "sensitive_topic"],
                f"unknown sensitive topic {category.sensitive_topic!r} (list it under "
                "sensitive_topics)",
            )
    for i, topic in enumerate(body.sensitive_topics):
        purpose = purpose_store.get(conn, topic.purpose)
        if purpose is None:
            problem(["sensitive_topics", i, "purpose"], f"unknown purpose {topic.purpose!r}")
        elif not purpose.sensitive:
            problem(
                ["sensitive_topics", i, "purpose"],
                f"purpose {topic.purpose!r} is not marked sensitive: a sensitive topic needs "
                "a purpose only the customer can grant",
            )
        if topic.question not in questions:
            problem(["sensitive_topics", i, "question"], f"unknown question {topic.question!r}")
    skus: set[str] = set()
    for i, product in enumerate(body.products):
        if product.sku in skus:
            problem(["products", i, "sku"], f"product {product.sku!r} appears twice")
        skus.add(product.sku)
        if product.category not in seen:
            problem(["products", i, "category"], f"unknown category {product.category!r}")
    return problems


def _raise(problems: list[dict[str, Any]]) -> None:
    if problems:
        raise InvalidInput(problems[0]["msg"], problems)


def replace_catalogue(hub: Hub, conn: Connection, body: CatalogueIn) -> dict[str, int]:
    """The whole catalogue at once (all or nothing). Offers keep referring to categories and
    products by name: one whose category or product went away is checked again on its next
    change, and chosen by its category until then."""
    _raise(_catalogue_problems(hub, conn, body))
    store.replace_catalogue(
        conn,
        [c.model_dump() for c in body.categories],
        [t.model_dump() for t in body.sensitive_topics],
        [p.model_dump() for p in body.products],
    )
    return counts_in(conn)


def counts_in(conn: Connection) -> dict[str, int]:
    categories, topics, products = store.counts(conn)
    return {"categories": categories, "sensitive_topics": topics, "products": products}


def categories_json(hub: Hub) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        catalogue = current(hub, conn).catalogue
    return [
        {
            "path": c.path,
            "name": c.name,
            "sensitive_topic": c.sensitive_topic,
            "sensitive": catalogue.topic_of(c.path) is not None,
        }
        for c in catalogue.categories.values()
    ]


# -- offers


def _offer_problems(
    hub: Hub, conn: Connection, body: OfferIn, catalogue: Catalogue
) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []

    def problem(where: list[Any], message: str) -> None:
        problems.append({"loc": ["body", *where], "msg": message})

    if body.sku is not None and body.sku not in catalogue.products:
        problem(["sku"], f"unknown product {body.sku!r}")
    if body.category is not None and body.category not in catalogue.categories:
        problem(["category"], f"unknown category {body.category!r}")
    if body.sensitive_topic is not None and body.sensitive_topic not in catalogue.topics:
        problem(["sensitive_topic"], f"unknown sensitive topic {body.sensitive_topic!r}")
    category = _category_of(body, catalogue)
    topic = body.sensitive_topic or (catalogue.topic_of(category) if category else None)
    if topic is not None and body.everyone:
        problem(
            ["everyone"], f"an offer about the sensitive topic {topic!r} cannot be for everyone"
        )
    questions = bank(hub, conn)[1]
    for i, match in enumerate(body.for_answers):
        question = questions.get(match.question)
        if question is None:
            problem(["for_answers", i, "question"], f"unknown question {match.question!r}")
            continue
        allowed = (
            {"yes", "no"}
            if question.kind is QuestionKind.YES_NO
            else {o.value for o in question.options}
        )
        wrong = [v for v in match.values if v not in allowed]
        if wrong:
            problem(
                ["for_answers", i, "values"],
                f"{wrong[0]!r} is not an answer to {match.question!r} "
                f"({', '.join(sorted(allowed)) or 'free answers: leave values empty'})",
            )
    if body.ahead_of is not None:
        question = questions.get(body.ahead_of.question)
        if question is None:
            problem(["ahead_of", "question"], f"unknown question {body.ahead_of.question!r}")
        elif question.kind not in (QuestionKind.DATE, QuestionKind.MONTH):
            problem(
                ["ahead_of", "question"],
                f"question {body.ahead_of.question!r} is not answered with a date or a month",
            )
    return problems


def _category_of(body: OfferIn, catalogue: Catalogue) -> str | None:
    if body.category is not None:
        return body.category
    product = catalogue.products.get(body.sku or "")
    return product.category if product else None


def _definition(body: OfferIn, catalogue: Catalogue) -> dict[str, Any]:
    out = body.model_dump(mode="json")
    out["category"] = _category_of(body, catalogue)
    return out


def create_offer(hub: Hub, conn: Connection, body: OfferIn) -> dict[str, Any]:
    if store.get_offer(conn, body.id) is not None:
        raise Conflict(f"offer {body.id!r} exists; PUT /v1/offers/{body.id} changes it")
    catalogue = current(hub, conn).catalogue
    _raise(_offer_problems(hub, conn, body, catalogue))
    store.insert_offer(
        conn,
        {
            "id": body.id,
            "position": store.next_position(conn),
            "active": True,
            "definition": _definition(body, catalogue),
            "updated_at": hub.now_micros(),
        },
    )
    return get_offer_in(conn, body.id)


def replace_offer(hub: Hub, conn: Connection, offer_id: str, body: OfferIn) -> dict[str, Any]:
    if body.id != offer_id:
        raise InvalidInput(
            f"the body's id {body.id!r} is not the path's {offer_id!r}",
            [{"loc": ["body", "id"], "msg": "must equal the id in the path"}],
        )
    if store.get_offer(conn, offer_id) is None:
        raise NotFound(f"no offer {offer_id!r}")
    catalogue = current(hub, conn).catalogue
    _raise(_offer_problems(hub, conn, body, catalogue))
    store.update_offer(
        conn,
        offer_id,
        {
            "active": True,
            "definition": _definition(body, catalogue),
            "updated_at": hub.now_micros(),
        },
    )
    return get_offer_in(conn, offer_id)


def retire_offer(hub: Hub, conn: Connection, offer_id: str) -> dict[str, Any]:
    if store.get_offer(conn, offer_id) is None:
        raise NotFound(f"no offer {offer_id!r}")
    store.update_offer(conn, offer_id, {"active": False, "updated_at": hub.now_micros()})
    return get_offer_in(conn, offer_id)


def get_offer_in(conn: Connection, offer_id: str) -> dict[str, Any]:
    row = store.get_offer(conn, offer_id)
    if row is None:
        raise NotFound(f"no offer {offer_id!r}")
    return offer_json(row)


def get_offer(hub: Hub, offer_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        return get_offer_in(conn, offer_id)


def offer_page(hub: Hub, after: str | None, limit: int) -> dict[str, Any]:
    check_limit(limit)
    cursor = decode_cursor(after)
    with hub.db.read() as conn:
        rows = store.offer_page(conn, str(cursor) if cursor is not None else None, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "offers": [offer_json(r) for r in rows],
        "next": encode_cursor(rows[-1].id) if more else None,
    }


# -- files


class _Rejected(Exception):
    def __init__(self, problems: list[dict[str, Any]]) -> None:
        super().__init__(problems[0]["msg"])
        self.problems = problems


def load(
    hub: Hub,
    body: CatalogueIn | None,
    offers: Sequence[OfferIn],
    triggers: TriggersIn | None = None,
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """A catalogue file: the catalogue (if it has one), its offers and its triggers (if it has
    them), in one transaction, all or nothing. Counts, or every problem found (nothing
    written then)."""
    counts = {
        "categories": 0,
        "products": 0,
        "offers_created": 0,
        "offers_updated": 0,
        "triggers": 0,
    }
    try:
        with hub.db.write() as conn:
            _load_in(hub, conn, body, offers, counts)
            if triggers is not None:
                categories = set(read(conn, store.version(conn)).catalogue.categories)
                found = trigger_problems(conn, triggers, categories)
                if found:
                    raise _Rejected(found)
                _store_triggers(hub, conn, triggers)
                counts["triggers"] = len(triggers.triggers)
    except _Rejected as rejected:
        return {k: 0 for k in counts}, rejected.problems
    return counts, []


def _load_in(
    hub: Hub,
    conn: Connection,
    body: CatalogueIn | None,
    offers: Sequence[OfferIn],
    counts: dict[str, int],
) -> None:
    if body is not None:
        problems = _catalogue_problems(hub, conn, body)
        if problems:
            raise _Rejected(problems)
        replace_catalogue(hub, conn, body)
        counts["categories"], counts["products"] = len(body.categories), len(body.products)
    # Read afresh, not through the cache: this transaction may still roll back.
    catalogue = read(conn, store.version(conn)).catalogue
    ids = [o.id for o in offers]
    problems = []
    for i, offer in enumerate(offers):
        if ids.count(offer.id) > 1:
            problems.append(
                {"loc": ["offers", i, "id"], "msg": f"offer {offer.id!r} appears twice"}
            )
        for p in _offer_problems(hub, conn, offer, catalogue):
            problems.append({"loc": ["offers", i, *p["loc"][1:]], "msg": p["msg"]})
    if problems:
        raise _Rejected(problems)
    now = hub.now_micros()
    position = store.next_position(conn)
    for offer in offers:
        row = store.get_offer(conn, offer.id)
        wanted = _definition(offer, catalogue)
        if row is None:
            store.insert_offer(
                conn,
                {
                    "id": offer.id,
                    "position": position,
                    "active": True,
                    "definition": wanted,
                    "updated_at": now,
                },
            )
            position += 1
            counts["offers_created"] += 1
        elif row.definition != wanted or not row.active:
            store.update_offer(
                conn, offer.id, {"active": True, "definition": wanted, "updated_at": now}
            )
            counts["offers_updated"] += 1


# -- triggers (run by services/triggers.py)


def trigger_problems(
    conn: Connection, body: TriggersIn, categories: set[str]
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    ids = [t.id for t in body.triggers]
    for i, trigger in enumerate(body.triggers):
        where = ["triggers", i]
        if ids.count(trigger.id) > 1:
            found.append({"loc": [*where, "id"], "msg": f"trigger {trigger.id!r} appears twice"})
        if trigger.category is not None and trigger.category not in categories:
            found.append(
                {"loc": [*where, "category"], "msg": f"unknown category {trigger.category!r}"}
            )
        for j, then in enumerate(trigger.then):
            for need in then.needs:
                purpose_id, _, channel = need.partition(":")
                purpose = purpose_store.get(conn, purpose_id)
                if purpose is None:
                    message = f"unknown purpose {purpose_id!r}"
                elif channel and channel not in purpose.channels:
                    message = f"purpose {purpose_id!r} has no channel {channel!r}"
                else:
                    continue
                found.append({"loc": [*where, "then", j, "needs"], "msg": message})
    return found


def replace_triggers(hub: Hub, conn: Connection, body: TriggersIn) -> list[dict[str, Any]]:
    """All triggers at once (all or nothing)."""
    categories = set(current(hub, conn).catalogue.categories)
    found = trigger_problems(conn, body, categories)
    if found:
        raise InvalidInput(found[0]["msg"], [{**p, "loc": ["body", *p["loc"]]} for p in found])
    return _store_triggers(hub, conn, body)


def _store_triggers(hub: Hub, conn: Connection, body: TriggersIn) -> list[dict[str, Any]]:
    now = hub.now_micros()
    trigger_store.replace_triggers(
        conn,
        [
            {"id": t.id, "position": i, "definition": t.model_dump(mode="json"), "updated_at": now}
            for i, t in enumerate(body.triggers)
        ],
    )
    return [t.model_dump(mode="json") for t in body.triggers]


def triggers_json(hub: Hub) -> list[dict[str, Any]]:
    with hub.db.read() as conn:
        return [r.definition for r in trigger_store.all_triggers(conn)]
