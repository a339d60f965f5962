"""Collection points (domain/collection_points.py): made and versioned by an admin, shown by
an embedded form or an app, and each submission recorded as evidence of what was shown — a
grant (or a request, where the purpose asks for confirmation) for every box ticked, a refusal
for every box left unticked, each record's proof naming the point, its version, the wording
and every box the customer saw."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import yaml
from pydantic import ValidationError
from sqlalchemy import Connection

from consentry.domain.access import Caller, Scope
from consentry.domain.clock import rfc3339_micros, to_micros
from consentry.domain.collection_points import (
    Definition,
    Placement,
    check_boxes,
    check_identify_by,
    check_origins,
    check_wordings,
    judge,
)
from consentry.domain.consent import Action, ActorType, Source
from consentry.domain.errors import (
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
)
from consentry.domain.ids import new_id
from consentry.domain.insights import K_FLOOR
from consentry.schemas.collection_points import PointIn, SubmissionIn
from consentry.schemas.consents import Actor, ConsentChange
from consentry.schemas.customers import CustomerCreate, CustomerLookup, Identifiers
from consentry.services import consents, customers
from consentry.services.hub import Hub
from consentry.store import collection_points as store
from consentry.store import purposes as purpose_store

SOURCE_OF = {
    Placement.WEB: Source.WEB,
    Placement.APP: Source.APP,
    Placement.STORE: Source.STORE,
    Placement.CALL_CENTRE: Source.CALL_CENTRE,
}
IDENTIFY_LABEL = {
    ("email", "en"): "Your e-mail address",
    ("email", "de"): "Ihre E-Mail-Adresse",
    ("phone", "en"): "Your phone number",
    ("phone", "de"): "Ihre Telefonnummer",
    ("loyalty_card", "en"): "Your loyalty card number",
    ("loyalty_card", "de"): "Ihre Kundenkartennummer",
}
POLICY = {"en": "How we use your data", "de": "Wie wir Ihre Daten nutzen"}
THANKS = {"en": "Thank you: your choice is saved.", "de": "Danke: Ihre Wahl ist gespeichert."}
CONFIRM_HINT = {
    "en": "Almost done: please confirm with the link we sent to your address.",
    "de": "Fast geschafft: Bitte bestätigen Sie über den Link, den wir Ihnen geschickt haben.",
}


def _definition(conn: Connection, body: PointIn) -> Definition:
    known = {p.id: p for p in purpose_store.all_purposes(conn)}
    boxes = check_boxes([b.model_dump() for b in body.boxes], known)
    languages: list[str] = list(dict.fromkeys(body.languages))
    wordings = check_wordings([w.model_dump() for w in body.wordings], len(boxes), languages)
    return Definition(
        name=body.name,
        placement=body.placement,
        boxes=boxes,
        wordings=wordings,
        languages=languages,
        origins=check_origins(list(dict.fromkeys(body.origins)), body.placement),
        identify_by=check_identify_by(body.identify_by, body.placement),
    )


def create(hub: Hub, conn: Connection, body: PointIn) -> dict[str, Any]:
    definition = _definition(conn, body)
    now = hub.now_micros()
    point_id = new_id("cp")
    store.insert_point(
        conn,
        id=point_id,
        version=1,
        name=definition.name,
        placement=definition.placement.value,
        publishable_key="pk_" + secrets.token_urlsafe(24),
        definition=definition.as_json(),
        created_at=now,
        updated_at=now,
    )
    return point_json(hub, store.get(conn, point_id))


def update(hub: Hub, conn: Connection, point_id: str, body: PointIn) -> dict[str, Any]:
    """A changed point is a new version (the old one stays, with its submissions); an
    unchanged one is answered as it is."""
    row = store.get(conn, point_id, for_update=True)
    if row is None:
        raise NotFound(f"no collection point {point_id!r}")
    definition = _definition(conn, body).as_json()
    if definition == _json(row.definition):
        return point_json(hub, row)
    now = hub.now_micros()
    version = row.version + 1
    store.replace(
        conn,
        point_id,
        version=version,
        name=body.name,
        placement=body.placement.value,
        definition=definition,
        updated_at=now,
    )
    store.insert_version(conn, point_id, version, definition, now)
    return point_json(hub, store.get(conn, point_id))


def _json(value: Any) -> dict[str, Any]:
    return dict(orjson.loads(value)) if isinstance(value, str | bytes) else dict(value)


def point_json(hub: Hub, row: Any) -> dict[str, Any]:
    definition = _json(row.definition)
    base = hub.settings.public_url.rstrip("/")
    embed = (
        f'<script src="{base}/static/consentry-form.js" data-point="{row.id}" '
        f'data-key="{row.publishable_key}" data-lang="{definition["languages"][0]}" async>'
        "</script>"
    )
    return {
        "id": row.id,
        "version": row.version,
        **{k: definition[k] for k in ("name", "placement", "boxes", "wordings", "languages")},
        "origins": definition["origins"],
        "identify_by": definition["identify_by"],
        "publishable_key": row.publishable_key,
        "embed": embed,
        "created_at": rfc3339_micros(row.created_at),
        "updated_at": rfc3339_micros(row.updated_at),
    }


def get(hub: Hub, point_id: str) -> dict[str, Any]:
    with hub.db.read() as conn:
        row = store.get(conn, point_id)
    if row is None:
        raise NotFound(f"no collection point {point_id!r}")
    return point_json(hub, row)


def list_all(hub: Hub) -> dict[str, Any]:
    with hub.db.read() as conn:
        rows = store.all_points(conn)
    return {"collection_points": [point_json(hub, r) for r in rows]}


def _opens(row: Any, key: str | None) -> Any:
    """The point's row, if ``key`` is its publishable key; else nothing is said about it."""
    if row is None or key is None or not secrets.compare_digest(row.publishable_key, key):
        raise Unauthenticated("this collection point's publishable key is needed")
    return row


def published(hub: Hub, point_id: str, key: str | None) -> Any:
    """The point a publishable key opens (Unauthenticated otherwise)."""
    with hub.db.read() as conn:
        return _opens(store.get(conn, point_id), key)


def allowed_origin(hub: Hub, point_id: str, origin: str | None) -> bool:
    if origin is None:
        return False
    with hub.db.read() as conn:
        row = store.get(conn, point_id)
    return row is not None and origin in _json(row.definition)["origins"]


def form(
    hub: Hub, point_id: str, key: str | None, lang: str, wording: str | None
) -> dict[str, Any]:
    """The current version of a point as a form shows it: one language, one wording (named,
    or one of the two at random: the A/B test)."""
    row = published(hub, point_id, key)
    definition = Definition.of(_json(row.definition))
    lang = lang if lang in definition.languages else definition.languages[0]
    chosen = (
        # An A/B split, not a secret: the random module is the right tool.
        definition.wording(wording) if wording is not None else random.choice(definition.wordings)
    )
    with hub.db.read() as conn:
        shown = {p.id: p for p in purpose_store.all_purposes(conn)}
    boxes = []
    for box, label in zip(definition.boxes, chosen.labels, strict=True):
        notice = shown[box.purpose]
        boxes.append(
            {
                "purpose": box.purpose,
                "channel": box.channel,
                "notice_version": box.notice_version,
                "label": label[lang],
                "notice_title": notice.title,
                "notice": notice.description,
            }
        )
    return {
        "point": row.id,
        "version": row.version,
        "wording": chosen.name,
        "lang": lang,
        "heading": chosen.heading[lang],
        "submit": chosen.submit[lang],
        "identify_by": definition.identify_by,
        "identify_label": IDENTIFY_LABEL.get((definition.identify_by or "", lang)),
        "boxes": boxes,
        "policy_url": hub.settings.policy_url,
        "policy_label": POLICY[lang],
        "thanks": THANKS[lang],
        "confirm_hint": CONFIRM_HINT[lang],
    }


@dataclass(frozen=True)
class Submitted:
    answer: dict[str, Any]
    customer_id: str
    awaiting_confirmation: bool


def submit(
    hub: Hub,
    conn: Connection,
    point_id: str,
    body: SubmissionIn,
    *,
    key: str | None,
    app: Caller | None,
    origin: str | None,
) -> Submitted:
    """Record a submission whole, or nothing. With the point's publishable key (a browser) the
    customer is named only by the identifier the form asked for; an app key (consents:write,
    bound to every purpose shown) may name the customer by id and give the capture time."""
    row = store.get(conn, point_id)
    if app is None:
        _opens(row, key)
        if body.customer is not None or body.captured_at is not None:
            raise InvalidInput(
                "a form in a browser names the customer by what it asked, and cannot date "
                "its capture: use an app key for customer and captured_at",
                [{"loc": ["customer" if body.customer else "captured_at"], "msg": "app key only"}],
            )
    if row is None:
        raise NotFound(f"no collection point {point_id!r}")
    definition = Definition.of(_json(row.definition))
    if app is not None:
        app.require(Scope.CONSENTS_WRITE)
        for box in definition.boxes:
            app.require_purpose(box.purpose)
    choices = judge(definition, row.version, body.version, [c.model_dump() for c in body.choices])
    wording = definition.wording(body.wording)
    customer_id = _customer(hub, conn, definition, body, by_app=app is not None)
    submission_id = new_id("sub")
    shown = [
        {
            "purpose": c.box.purpose,
            "channel": c.box.channel,
            "notice_hash": c.box.notice_hash,
            "chosen": c.chosen,
        }
        for c in choices
    ]
    caller = _point_caller(row.id, definition)
    records = []
    for choice, label in zip(choices, wording.labels, strict=True):
        proof = {
            "method": "collection-point",
            "point": row.id,
            "version": row.version,
            "wording": wording.name,
            "lang": body.lang,
            "label": label.get(body.lang) or next(iter(label.values())),
            "submission": submission_id,
            "shown": shown,
        }
        if origin is not None:
            proof["origin"] = origin
        change = ConsentChange(
            purpose=choice.box.purpose,
            channel=choice.box.channel,
            action=Action.GRANT if choice.chosen else Action.REFUSE,
            notice_version=choice.box.notice_version,
            source=SOURCE_OF[definition.placement],
            actor=Actor(type=ActorType.CUSTOMER),
            location=row.id,
            captured_at=body.captured_at,
            proof=proof,
        )
        answer = consents.record_change(hub, conn, caller, customer_id, change, at_point=True)
        record = answer["record"]
        records.append(
            {
                "purpose": record["purpose"],
                "channel": record["channel"],
                "action": record["action"],
                "record_id": record["id"],
            }
        )
    # Counted on the day the customer submitted (an app may post a till's capture later).
    now = to_micros(body.captured_at) if body.captured_at is not None else hub.now_micros()
    store.insert_submission(
        conn,
        id=submission_id,
        point_id=row.id,
        version=row.version,
        variant=wording.name,
        customer_id=customer_id,
        day=_day(hub, now),
        submitted_at=now,
        chosen="".join("1" if c.chosen else "0" for c in choices),
    )
    awaiting = any(r["action"] == Action.REQUEST.value for r in records)
    answer = {"id": submission_id, "awaiting_confirmation": awaiting}
    if app is not None:  # an anonymous browser learns nothing about whose address it typed
        answer |= {"customer": customer_id, "records": records}
    return Submitted(answer, customer_id, awaiting)


def publishing_caller(point_id: str) -> Caller:
    """Who posts with a point's publishable key: the point itself, allowed nothing else (its
    submissions act through ``_point_caller``); its Idempotency-Keys are the point's own."""
    return Caller(f"point:{point_id}", "collection point form", frozenset(), frozenset())


def _point_caller(point_id: str, definition: Definition) -> Caller:
    """The point acts for the customer who fills it in, on exactly the purposes it shows."""
    return Caller(
        f"point:{point_id}",
        f"collection point {definition.name}",
        frozenset(
            {
                Scope.CONSENTS_WRITE.value,
                Scope.CONSENTS_SENSITIVE.value,
            }
        ),
        frozenset(b.purpose for b in definition.boxes),
    )


def _customer(
    hub: Hub, conn: Connection, definition: Definition, body: SubmissionIn, *, by_app: bool
) -> str:
    """Who submitted: named by id (an app), else found or made by the identifier asked for."""
    if body.customer is not None:
        return customers.require_active(conn, body.customer).id
    identifiers = body.identifiers or Identifiers()
    given = identifiers.model_dump(exclude_none=True)
    wanted = definition.identify_by
    if wanted is None or set(given) != {wanted}:
        what = wanted or "customer (by id)"
        raise InvalidInput(
            f"this point identifies the customer by {what}: send exactly that",
            [{"loc": ["identifiers"], "msg": f"{what} expected"}],
        )
    if not by_app and wanted != "email":
        # A browser could name anyone by a card number or a phone: only an address that
        # will receive the confirmation is taken from an anonymous form.
        raise Forbidden("a form in a browser may only identify customers by e-mail")
    found = customers.find(hub, CustomerLookup(**given))
    if found is not None:
        return customers.require_active(conn, found).id
    made = customers.create(hub, conn, CustomerCreate(identifiers=identifiers))
    return str(made["id"])


def _day(hub: Hub, micros: int) -> date:
    moment = datetime.fromtimestamp(micros / 1_000_000, UTC)
    return moment.astimezone(ZoneInfo(hub.settings.insights_timezone)).date()


def rates(hub: Hub, point_id: str, first: date, last: date) -> dict[str, Any]:
    """Submissions and the share of each box ticked, per version and wording, over the range;
    a group of fewer than k submissions shows neither (k-anonymity, as every insight)."""
    k = max(hub.settings.insights_k, K_FLOOR)
    with hub.db.read() as conn:
        row = store.get(conn, point_id)
        if row is None:
            raise NotFound(f"no collection point {point_id!r}")
        definitions = {
            v.version: Definition.of(_json(v.definition)) for v in store.versions(conn, point_id)
        }
        tallies = store.tallies(conn, point_id, first, last)
    groups: dict[tuple[int, str], list[tuple[str, int]]] = {}
    for t in tallies:
        groups.setdefault((t.version, t.variant), []).append((t.chosen, int(t.n)))
    out = []
    for (version, variant), counts in sorted(groups.items()):
        total = sum(n for _, n in counts)
        boxes = definitions[version].boxes
        shares: list[dict[str, Any]] = []
        for i, box in enumerate(boxes):
            ticked = sum(n for chosen, n in counts if chosen[i] == "1")
            hidden = total < k or ticked < k or total - ticked < k
            shares.append(
                {
                    "purpose": box.purpose,
                    "channel": box.channel,
                    "ticked": None if hidden else ticked,
                    "rate": None if hidden else ticked / total,
                }
            )
        out.append(
            {
                "version": version,
                "wording": variant,
                "submissions": None if total < k else total,
                "boxes": shares,
            }
        )
    return {
        "point": point_id,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "k": k,
        "rows": out,
    }


def load_file(hub: Hub, path: Path) -> tuple[dict[str, int], list[str]]:
    """A YAML or JSON file of ``collection_points:`` (each as the API takes it), all or
    nothing: a point whose name exists already is updated (a new version if it changed),
    any other created. The counts, or every problem by point. For the console's upload."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return {}, [f"{path.name} is not YAML or JSON: {str(exc).splitlines()[0]}"]
    items = data.get("collection_points") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        return {}, ["the file needs a list under collection_points:"]
    bodies: list[PointIn] = []
    problems: list[str] = []
    for n, item in enumerate(items, start=1):
        try:
            bodies.append(PointIn.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            problems.append(f"point {n}: {where}: {first['msg']}")
    if problems:
        return {}, problems
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    try:
        with hub.db.write() as conn:
            by_name = {r.name: r for r in store.all_points(conn)}
            for n, body in enumerate(bodies, start=1):
                try:
                    existing = by_name.get(body.name)
                    if existing is None:
                        create(hub, conn, body)
                        counts["created"] += 1
                    elif update(hub, conn, existing.id, body)["version"] != existing.version:
                        counts["updated"] += 1
                    else:
                        counts["unchanged"] += 1
                except DomainError as exc:
                    problems.append(f"point {n} ({body.name}): {exc.detail}")
            if problems:
                raise _NothingLoaded
    except _NothingLoaded:
        return {}, problems
    return counts, []


class _NothingLoaded(Exception):
    """Rolls the file's transaction back when any point of it was refused."""
