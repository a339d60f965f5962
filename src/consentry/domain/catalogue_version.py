"""The catalogue as one version of it was read: products, complements and triggers together."""

from __future__ import annotations

from dataclasses import dataclass

from consentry.domain.catalogue import Catalogue
from consentry.domain.complements import Complement
from consentry.domain.triggers import Trigger


@dataclass(frozen=True)
class CatalogueVersion:
    version: int
    catalogue: Catalogue
    complements: dict[str, list[Complement]]
    triggers: list[Trigger]
