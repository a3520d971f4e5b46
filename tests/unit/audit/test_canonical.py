"""Canonical serialisation and the record hash (the documented format auditors rely on)."""

from __future__ import annotations

import hashlib
from enum import Enum

from socle.audit.canonical import GENESIS, canonical, chain_hash


class Colour(Enum):
    RED = "red"


def test_keys_sorted_no_whitespace() -> None:
    assert canonical({"b": 1, "a": {"d": [1, 2], "c": None}}) == b'{"a":{"c":null,"d":[1,2]},"b":1}'


def test_same_content_same_bytes_whatever_the_insertion_order() -> None:
    one = {"x": 1, "y": {"p": 1.5, "q": "é"}}
    two = {"y": {"q": "é", "p": 1.5}, "x": 1}
    assert canonical(one) == canonical(two)


def test_numbers() -> None:
    value = {"f": 0.1 + 0.2, "small": 1e-7, "whole": 100.0, "big": 10**18, "nan": float("nan")}
    assert canonical(value) == (
        b'{"big":1000000000000000000,"f":0.30000000000000004,"nan":null,"small":1e-7,"whole":100.0}'
    )


def test_utf8_not_escaped() -> None:
    assert canonical({"t": "données"}) == '{"t":"données"}'.encode()


def test_unknown_types() -> None:
    class Route:
        def to_audit(self) -> dict[str, str]:
            return {"deployment": "d1"}

    value = {"s": {"b", "a"}, "e": Colour.RED, "r": Route()}
    assert canonical(value) == b'{"e":"red","r":{"deployment":"d1"},"s":["a","b"]}'


def test_chain_hash_is_sha256_of_prev_bytes_and_body() -> None:
    body = canonical({"kind": "request", "seq": 1})
    expected = hashlib.sha256(bytes(32) + body).hexdigest()
    assert chain_hash(GENESIS, body) == expected
    assert chain_hash(expected, body) == hashlib.sha256(bytes.fromhex(expected) + body).hexdigest()
