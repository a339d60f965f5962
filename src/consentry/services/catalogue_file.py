"""Catalogue files (YAML or JSON): ``categories``, ``sensitive_topics``, ``products``,
``offers`` and ``triggers``, every problem named by its line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from consentry.schemas.offers import CatalogueIn, OfferIn, TriggersIn
from consentry.services import catalogue
from consentry.services.hub import Hub
from consentry.services.yaml_lines import FileProblems, compose, line_of, message

CatalogueFileError = FileProblems
_SECTIONS = ("categories", "sensitive_topics", "products")
_OTHERS = ("offers", "triggers")


@dataclass
class ParsedCatalogue:
    catalogue: CatalogueIn | None
    offers: list[OfferIn]
    triggers: TriggersIn | None
    data: dict[str, Any]
    root: yaml.Node | None

    def where(self, loc: list[Any]) -> str:
        """``line N: offers[2](socks).category`` for a problem's location."""
        parts = [p for p in loc if p != "body"]
        line = line_of(self.root, parts)
        named = [str(p) for p in parts]
        if len(parts) >= 2 and isinstance(parts[1], int):
            items = self.data.get(str(parts[0])) or []
            item = items[parts[1]] if parts[1] < len(items) else None
            key = next(
                (item[k] for k in ("id", "sku", "path") if isinstance(item, dict) and k in item),
                None,
            )
            named = [f"{parts[0]}[{parts[1]}]" + (f"({key})" if key else ""), *named[2:]]
        return f"line {line}: " + ".".join(named)


def read_catalogue(path: Path) -> ParsedCatalogue:
    data, root = compose(path)
    if not isinstance(data, dict) or not any(k in data for k in (*_SECTIONS, *_OTHERS)):
        raise FileProblems(
            [
                "line 1: expected a mapping with categories, sensitive_topics, products, "
                "offers, triggers"
            ]
        )
    unknown = sorted(set(data) - {*_SECTIONS, *_OTHERS})
    if unknown:
        raise FileProblems([f"line 1: unknown section {unknown[0]!r}"])
    parsed = ParsedCatalogue(None, [], None, data, root)
    problems: list[str] = []
    if any(k in data for k in _SECTIONS):
        try:
            parsed.catalogue = CatalogueIn.model_validate(
                {k: data[k] for k in _SECTIONS if k in data}
            )
        except ValidationError as exc:
            problems += [f"{parsed.where(list(e['loc']))}: {message(e)}" for e in exc.errors()]
    offers = data.get("offers") or []
    if not isinstance(offers, list):
        problems.append(f"line {line_of(root, ['offers'])}: offers: expected a list of offers")
        offers = []
    for index, item in enumerate(offers):
        try:
            parsed.offers.append(OfferIn.model_validate(item))
        except ValidationError as exc:
            problems += [
                f"{parsed.where(['offers', index, *e['loc']])}: {message(e)}" for e in exc.errors()
            ]
    if "triggers" in data:
        try:
            parsed.triggers = TriggersIn.model_validate({"triggers": data["triggers"] or []})
        except ValidationError as exc:
            problems += [f"{parsed.where(list(e['loc']))}: {message(e)}" for e in exc.errors()]
    if problems:
        raise FileProblems(problems)
    return parsed


def load_file(hub: Hub, path: Path) -> tuple[dict[str, int], list[str]]:
    """Load a catalogue file, all or nothing: the counts, or every problem as ``line N: …``
    (nothing written then). For the CLI and the console's upload."""
    try:
        parsed = read_catalogue(path)
    except CatalogueFileError as exc:
        return {}, list(exc.problems)
    counts, problems = catalogue.load(hub, parsed.catalogue, parsed.offers, parsed.triggers)
    return (
        (counts, [])
        if not problems
        else ({}, [f"{parsed.where(p['loc'])}: {p['msg']}" for p in problems])
    )
