"""Security review 816681f, finding 13 (the systematic check): for random Unicode around real
identifiers — whitespace, control and format characters, full-width forms, combining marks —
one stored identity never becomes two, and a look-up finds exactly what was stored or nothing.

Pure properties of the normalisers first (many examples, fast), then the same through the API
on both engines (fewer: each example is a round of requests)."""

from __future__ import annotations

import unicodedata

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from consentry.domain.errors import InvalidInput
from consentry.domain.identifiers import (
    normalise_email,
    normalise_loyalty_card,
    normalise_postcode,
)

EMAILS = ["ann@example.com", "bob.lee+news@shop.co.uk", "x@y.io"]
CARDS = ["6000000001", "ABC123", "6000 0000 01"]
POSTCODES = ["SW1A 1AA", "EC1A1BB", "75001"]

WHITESPACE = st.sampled_from([" ", "\t", "\n", "\u00a0", "\u3000", "\u2003"])
CONTROL = st.sampled_from(["\x00", "\x07", "\x1b", "\u200b", "\u200d", "\u202e", "\ufeff"])
COMBINING = st.sampled_from(["\u0301", "\u0308", "\u0327"])


def wide(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def disguised(draw: st.DrawFn, real: str, marks: bool = False) -> str:
    """``real`` with random case, full-width letters, and something inserted somewhere (with
    ``marks``, a combining mark too: it may make another letter, "a" + acute = "á")."""
    chars = [(c.upper() if draw(st.booleans()) else c) if c.isalpha() else c for c in real]
    chars = [wide(c) if draw(st.booleans()) else c for c in chars]
    where = draw(st.integers(0, len(chars)))
    noise = draw(st.one_of(WHITESPACE, CONTROL, *([COMBINING] if marks else []), st.just("")))
    chars.insert(where, noise)
    return "".join(chars)


def _either(normalise: object, raw: str) -> str | None:
    try:
        return normalise(raw)  # type: ignore[operator,no-any-return]
    except InvalidInput:
        return None


@settings(max_examples=400)
@given(data=st.data(), real=st.sampled_from(EMAILS))
def test_an_address_in_disguise_is_itself_or_nothing(data: st.DataObject, real: str) -> None:
    stored = normalise_email(real)
    typed = data.draw(disguised(real))
    found = _either(normalise_email, typed)
    # Either the very address stored, or refused: never another address.
    assert found in (stored, None)
    # Whatever is around it, nothing with a space or a control character inside is taken.
    inside = unicodedata.normalize("NFKC", typed).strip()
    if any(unicodedata.category(c)[0] in "CZ" for c in inside):
        assert found is None


@settings(max_examples=300)
@given(data=st.data(), real=st.sampled_from(EMAILS))
def test_a_combining_mark_makes_another_letter_or_nothing(data: st.DataObject, real: str) -> None:
    """Not the same address in disguise: either refused, or a visibly other address whose
    letters are composed (no stray mark that a mailer and our look-up could read apart)."""
    found = _either(normalise_email, data.draw(disguised(real, marks=True)))
    if found is not None and found != normalise_email(real):
        assert unicodedata.normalize("NFC", found) == found
        assert len(found) == len(real)  # one letter changed, none added


@settings(max_examples=300)
@given(data=st.data(), real=st.sampled_from(CARDS))
def test_a_card_in_disguise_is_itself_or_nothing(data: st.DataObject, real: str) -> None:
    stored = normalise_loyalty_card(real)
    assert _either(normalise_loyalty_card, data.draw(disguised(real))) in (stored, None)


@settings(max_examples=300)
@given(data=st.data(), real=st.sampled_from(POSTCODES))
def test_a_postcode_in_disguise_is_itself_or_nothing(data: st.DataObject, real: str) -> None:
    stored = normalise_postcode(real)
    assert _either(normalise_postcode, data.draw(disguised(real))) in (stored, None)


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_no_stored_form_holds_a_control_or_invisible_character(raw: str) -> None:
    for normalise in (normalise_email, normalise_loyalty_card, normalise_postcode):
        value = _either(normalise, raw)
        if value is not None:
            assert not any(unicodedata.category(c)[0] == "C" for c in value)
            assert value == unicodedata.normalize("NFKC", value)  # stable: one form


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_through_the_api_one_identity_stays_one(client: TestClient, data: st.DataObject) -> None:
    real = data.draw(st.sampled_from(EMAILS))
    first = client.post("/v1/customers", json={"identifiers": {"email": real}})
    if first.status_code == 201:
        stored_id = first.json()["id"]
    else:  # made by an earlier example
        assert first.status_code == 409
        stored_id = client.post("/v1/customers/lookup", json={"email": real}).json()["id"]
    typed = data.draw(disguised(real))
    assume(typed != real)
    again = client.post("/v1/customers", json={"identifiers": {"email": typed}})
    assert again.status_code in (409, 422), (typed, again.status_code)  # never a second one
    looked = client.post("/v1/customers/lookup", json={"email": typed})
    assert looked.status_code in (200, 404, 422)
    if looked.status_code == 200:
        assert looked.json() == {"id": stored_id}
