"""Ids: Crockford base32 of 48 bits of milliseconds and 80 random bits, sorting by time."""

from __future__ import annotations

import base64
import time

from consentry.domain.ids import new_id

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
_FROM_RFC4648 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD)


def _bits(body: str) -> int:
    value = 0
    for digit in body:
        value = value << 5 | _CROCKFORD.index(digit)
    return value


def test_an_id_is_rfc4648_base32_of_its_bits_in_crockfords_digits() -> None:
    before = time.time_ns() // 1_000_000
    ids = [new_id("rec") for _ in range(2_000)]
    after = time.time_ns() // 1_000_000
    for made in ids:
        prefix, body = made.split("_")
        assert prefix == "rec" and len(body) == 26
        bits = _bits(body)
        assert bits & 0b11 == 0  # 130 bits of digits: the last two are padding
        raw = (bits >> 2).to_bytes(16, "big")
        assert base64.b32encode(raw).decode()[:26].translate(_FROM_RFC4648) == body
        assert before <= int.from_bytes(raw[:6], "big") <= after
    assert len(set(ids)) == len(ids)


def test_ids_made_later_sort_later() -> None:
    first = new_id("cus")
    time.sleep(0.002)
    assert new_id("cus") > first
