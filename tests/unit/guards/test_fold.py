"""The single-byte fold (one ``bytes.translate`` for Windows-1252 and Latin-1 text) gives what
the Unicode path gives: same folded text, same words for the echo check, on every character of
both code pages and on random mixes with look-alikes, combining marks and other scripts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from socle.guards.normalize import _fold_unicode, fold, fold_words


def reference(text: str, confusables: bool = True) -> str:
    return " ".join(_fold_unicode(text, confusables).split())


def _code_page(encoding: str) -> list[str]:
    chars = []
    for byte in range(256):
        try:
            chars.append(bytes([byte]).decode(encoding))
        except UnicodeDecodeError:
            continue
    return chars


SINGLE_BYTE = sorted({*_code_page("latin-1"), *_code_page("cp1252")})
# Look-alike letters, combining marks, characters that fold to several, other scripts.
OTHERS = list("іоаеΑΒοα\u0301\u0308\u0327ﬁ½…™ǅẞİ😀中\u200b\u00a0\u2009")
CHARS = st.sampled_from(SINGLE_BYTE + OTHERS + list("abc XYZ'’"))


def test_every_single_byte_character_folds_as_the_unicode_path() -> None:
    for char in SINGLE_BYTE:
        for text in (char, f"Ab{char}cD", f"{char} {char}\t{char}"):
            assert fold(text) == reference(text), repr(text)
            assert fold(text, confusables=False) == reference(text, confusables=False)


@settings(max_examples=600, deadline=None)
@given(st.lists(CHARS, max_size=60).map("".join), st.booleans())
def test_fold_agrees_with_the_unicode_path(text: str, confusables: bool) -> None:
    assert fold(text, confusables) == reference(text, confusables)
    assert fold_words(text) == reference(text).split()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_fold_agrees_on_any_text(text: str) -> None:
    assert fold(text) == reference(text)
    assert fold_words(text) == reference(text).split()
