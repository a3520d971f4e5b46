"""One text prepared once for all recognizers: lower-cased copy, word set, digit-run windows.

Python's ``re`` costs about 15 ns per character for every pass over a text, so a dozen
recognizers each scanning a 500-character message would blow the hot-path budget. Instead the
recognizers share three cheap views computed at most once per text:

- ``words``: the set of lower-cased words (as UTF-8 bytes, built with ``bytes.translate`` and
  ``split``, ~5 µs for 500 characters); keyword-gated recognizers test a set intersection first.
- ``windows``: spans around runs of digits long enough to hold an identifier (one regex pass);
  the number recognizers search only inside them.
- ``lower``: ``text.lower()`` with the same length as ``text``, so spans line up.
"""

from __future__ import annotations

import re

_PUNCT = b".,;:!?()[]{}\"'/\\=<>|*&#@+`~^%$\t\n\r-"
_TO_SPACE = bytes.maketrans(_PUNCT, b" " * len(_PUNCT))
# Digits with the separators identifiers are written with; at least 6 characters.
_DIGIT_RUN = re.compile(r"\d[\d \t.\-/()]{4,}\d")
_DIGITS = frozenset("0123456789")
_WINDOW_BEFORE = 4  # room for "+33 ", a NIR's sex digit, a card's first group separator
_MERGE_GAP = 3  # "2A" inside a Corsican NIR splits its digit run


def keys(*words: str) -> frozenset[bytes]:
    """Keyword set in the form :attr:`TextView.words` holds (lower-case UTF-8 bytes)."""
    return frozenset(w.lower().encode() for w in words)


class TextView:
    """A text and its lazily computed views; see the module docstring."""

    __slots__ = ("_lower", "_windows", "_words", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._lower: str | None = None
        self._words: frozenset[bytes] | None = None
        self._windows: list[tuple[int, int]] | None = None

    @property
    def lower(self) -> str:
        """``text.lower()``, kept at the same length as ``text``."""
        if self._lower is None:
            lower = self.text.lower()
            if len(lower) != len(self.text):
                # A few characters (e.g. "İ") grow when lower-cased; keep spans aligned.
                lower = "".join(c.lower() if len(c.lower()) == 1 else c for c in self.text)
            self._lower = lower
        return self._lower

    @property
    def words(self) -> frozenset[bytes]:
        """Lower-cased words split on spaces and punctuation (apostrophes, hyphens included)."""
        if self._words is None:
            lower = self.lower
            if "’" in lower:
                lower = lower.replace("’", "'")
            self._words = frozenset(lower.encode().translate(_TO_SPACE).split())
        return self._words

    def has_any(self, wanted: frozenset[bytes]) -> bool:
        """True when one of ``wanted`` is a word of the text."""
        return not wanted.isdisjoint(self.words)

    @property
    def windows(self) -> list[tuple[int, int]]:
        """Spans (start, end) around digit runs of 6+ characters, merged when close."""
        if self._windows is None:
            spans: list[tuple[int, int]] = []
            if not _DIGITS.isdisjoint(self.text):
                n = len(self.text)
                for m in _DIGIT_RUN.finditer(self.text):
                    start = max(0, m.start() - _WINDOW_BEFORE)
                    end = min(n, m.end() + 1)
                    if spans and start - spans[-1][1] <= _MERGE_GAP:
                        spans[-1] = (spans[-1][0], end)
                    else:
                        spans.append((start, end))
            self._windows = spans
        return self._windows
