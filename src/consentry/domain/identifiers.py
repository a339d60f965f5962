"""Customer identifiers and how they are normalised before they are stored or looked up.

Every identifier is read in Unicode NFKC first, so an address or card number typed in
full-width forms (as East Asian keyboards do) is the same identity as its ASCII form, never a
second customer; control and format characters (NUL, bidi overrides, zero-width joiners) are
refused rather than stored. E-mail addresses, postcodes and loyalty cards are then limited to
their alphabets.
"""

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


# One plain address (RFC 5322 dot-atom local part, letters of any script allowed as RFC 6531
# does): no display name, comment, quoted local part, route, list or whitespace inside.
_LOCAL = r"[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_EMAIL = re.compile(rf"{_LOCAL}@{_LABEL}(?:\.{_LABEL})+")
_POSTCODE = re.compile(r"[A-Z0-9]{1,16}")
_CARD = re.compile(r"[A-Z0-9][A-Z0-9-]{0,63}")


def _invalid(field: str, raw: str, what: str, msg: str) -> InvalidInput:
    return InvalidInput(f"{raw!r} is not {what}", [{"loc": [field], "msg": msg}])


def _nfkc(field: str, raw: str, what: str) -> str:
    """NFKC, with control and format characters refused (category C: Cc, Cf, Cs, Co, Cn)."""
    value = unicodedata.normalize("NFKC", raw)
    if any(unicodedata.category(c)[0] == "C" for c in value):
        raise _invalid(field, raw, what, "control or invisible characters are not allowed")
    return value


def normalise_email(raw: str) -> str:
    """The stored form of one plain address: NFKC, spaces around it trimmed, lower case.

    Whitespace *inside* is refused, never deleted: ``victim@bigcorp.co m`` is no address at all
    (deleting the space would find victim@bigcorp.com while a mailer reads another address)."""
    value = _nfkc("email", raw, "an e-mail address").strip().lower()
    if len(value) > 254 or not _EMAIL.fullmatch(value):
        raise _invalid("email", raw, "an e-mail address", "one plain e-mail address")
    return value


def normalise_phone(raw: str, default_region: str) -> str:
    """E.164; national numbers are read in the retailer's default region."""
    value = _nfkc("phone", raw, "a phone number")
    try:
        number = phonenumbers.parse(value, default_region)
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
    """Cards are printed in groups: spaces anywhere are ignored."""
    value = "".join(_nfkc("loyalty_card", raw, "a loyalty card number").split()).upper()
    if not _CARD.fullmatch(value):
        raise InvalidInput(
            "a loyalty card number has 1 to 64 letters A-Z, digits or '-'",
            [{"loc": ["loyalty_card"], "msg": "letters A-Z, digits or '-', at most 64"}],
        )
    return value


def normalise_postcode(raw: str) -> str:
    value = "".join(_nfkc("postcode", raw, "a postcode").split()).upper()
    if not _POSTCODE.fullmatch(value):
        raise _invalid("postcode", raw, "a postcode", "letters A-Z and digits only, at most 16")
    return value


def name_key(raw: str) -> str:
    """How a name is compared for the card-less look-up: case, accents and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", raw)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def normalise_name(raw: str) -> str:
    """A name as stored: NFKC, runs of spaces as one, no control characters."""
    return " ".join(_nfkc("name", raw, "a name").split())


def normalise_identifier(kind: IdentifierKind, raw: str, default_region: str) -> str:
    if kind is IdentifierKind.EMAIL:
        return normalise_email(raw)
    if kind is IdentifierKind.PHONE:
        return normalise_phone(raw, default_region)
    return normalise_loyalty_card(raw)
