from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given, settings
from hypothesis import strategies as st

from socle.guards.pseudonym import PseudonymMap, StreamRestorer, rewrite
from socle.guards.scanner import EntityScanner
from tests.unit.guards.values import iban, nir

SCANNER = EntityScanner()


def pseudonymise(text: str, mapping: PseudonymMap) -> str:
    mapping.reserve([text])
    findings = SCANNER.scan(text)
    replacement = {i: mapping.placeholder(f.type, f.value) for i, f in enumerate(findings)}
    return rewrite(text, findings, replacement)


def test_same_value_same_placeholder_across_spellings() -> None:
    m = PseudonymMap()
    a = m.placeholder("phone", "06 12 34 56 78")
    assert m.placeholder("phone", "0612345678") == a
    assert m.placeholder("email", "Jean@Example.fr") == m.placeholder("email", "jean@example.fr")
    assert m.placeholder("phone", "07 00 00 00 00") != a
    assert a == "[PHONE_1]"


def test_placeholder_already_in_the_text_is_never_reused() -> None:
    m = PseudonymMap()
    text = "literal [EMAIL_1] then a@b.fr"
    out = pseudonymise(text, m)
    assert out == "literal [EMAIL_1] then [EMAIL_2]"
    assert m.restore(out) == text


def test_restore_in_json_string_escapes_the_value() -> None:
    m = PseudonymMap()
    p = m.placeholder("secret", 'pa"ss\\word')
    assert m.restore(f'{{"pw": "{p}"}}', json_string=True) == '{"pw": "pa\\"ss\\\\word"}'


def test_seal_and_unseal_round_trip_and_tamper() -> None:
    m = PseudonymMap()
    p = m.placeholder("email", "a@b.fr")
    key = bytes(range(32))
    blob = m.seal(key)
    assert b"a@b.fr" not in blob
    back = PseudonymMap.unseal(blob, key)
    assert back.restore(p) == "a@b.fr"
    assert back.placeholder("email", "A@B.FR") == p
    with pytest.raises(InvalidTag):
        PseudonymMap.unseal(blob[:-1] + bytes([blob[-1] ^ 1]), key)
    assert "a@b.fr" not in repr(m)


ENTITIES = [
    "jean.dupont@example.fr",
    "06 12 34 56 78",
    "+33 6 98 76 54 32",
    nir("1850578006084"),
    iban("FR", "30006000011234567890189"),
    "4111 1111 1111 1111",
    "192.168.1.10",
    "AKIAIOSFODNN7EXAMPLE",
    "password=Hunter2!x",
    "[EMAIL_1]",
    "[PHONE_",
    "_1]",
    "[",
]
pieces = st.one_of(
    st.text(max_size=30), st.sampled_from(ENTITIES), st.sampled_from([" ", "\n", ", "])
)
texts = st.lists(pieces, max_size=12).map("".join)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_pseudonymise_then_restore_is_identity(text: str) -> None:
    m = PseudonymMap()
    assert m.restore(pseudonymise(text, m)) == text


@settings(max_examples=100, deadline=None)
@given(texts, st.lists(st.integers(min_value=0, max_value=400), max_size=8))
def test_streamed_restore_equals_whole_restore(text: str, cuts: list[int]) -> None:
    m = PseudonymMap()
    pseudo = pseudonymise(text, m)
    bounds = sorted({min(c, len(pseudo)) for c in cuts})
    chunks = [pseudo[a:b] for a, b in zip([0, *bounds], [*bounds, len(pseudo)], strict=True)]
    r = StreamRestorer(m)
    assert "".join(r.feed(c) for c in chunks) + r.flush() == text


def test_placeholder_split_at_every_position() -> None:
    m = PseudonymMap()
    answer = (
        f"Contact {m.placeholder('email', 'a@b.fr')} or {m.placeholder('phone', '0612345678')}."
    )
    expected = "Contact a@b.fr or 0612345678."
    for cut in range(len(answer) + 1):
        r = StreamRestorer(m)
        assert r.feed(answer[:cut]) + r.feed(answer[cut:]) + r.flush() == expected
    r = StreamRestorer(m)  # one character per chunk
    assert "".join(r.feed(c) for c in answer) + r.flush() == expected


def test_stream_holds_back_no_more_than_a_placeholder() -> None:
    r = StreamRestorer(PseudonymMap())
    assert r.feed("a [") == "a "
    assert r.feed("NOT A PLACEHOLDER") == "[NOT A PLACEHOLDER"
    assert r.feed("[EMAIL_") == ""
    assert r.flush() == "[EMAIL_"
