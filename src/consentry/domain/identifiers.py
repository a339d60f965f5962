"""Customer identifiers and how they are normalised before they are stored or looked up."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

import phonenumbers

from consentry.domain.errors import InvalidInput


class IdentifierKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    LOYALTY_CARD = "loyalty_card"


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(raw: str) -> str:
    value = "".join(raw.split()).lower()
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidInput(
            f"{raw!r} is not an e-mail address", [{"loc": ["email"], "msg": "not an e-mail"}]
        )
    return value


def normalise_phone(raw: str, default_region: str) -> str:
    """E.164; national numbers are read in the retailer's default region."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput(
            f"{raw!r} is not a phone number", [{"loc": ["phone"], "msg": str(exc)}]
        ) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidInput(
            f"{raw!r} is not a possible phone number",
            [{"loc": ["phone"], "msg": "not a possible number"}],
        )
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def normalise_loyalty_card(raw: str) -> str:
    value = "".join(raw.split()).upper()
    if not value or len(value) > 64:
        raise InvalidInput(
            "a loyalty card number must have 1 to 64 characters",
            [{"loc": ["loyalty_card"], "msg": "bad length"}],
        )
    return value


def normalise_postcode(raw: str) -> str:
    value = "".join(raw.split()).upper()
    if not value or len(value) > 16 or not value.isalnum():
        raise InvalidInput(
            f"{raw!r} is not a postcode",
            [{"loc": ["postcode"], "msg": "letters and digits only, at most 16"}],
        )
    return value


def name_key(raw: str) -> str:
    """How a name is compared for the card-less look-up: case, accents and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", raw)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def normalise_identifier(kind: IdentifierKind, raw: str, default_region: str) -> str:
    if kind is IdentifierKind.EMAIL:
        return normalise_email(raw)
    if kind is IdentifierKind.PHONE:
        return normalise_phone(raw, default_region)
    return normalise_loyalty_card(raw)
