"""One text prepared once for all recognizers: lower-cased copy, keyword hits, digit windows.

Python's ``re`` costs 15–200 ns per character for every pass of a pattern over a text (more
for long alternations), so a dozen recognizers each scanning a 500-character message would
blow the hot-path budget. Instead the recognizers share cheap views computed at most once per
text, and each runs its patterns only where a view says a match is possible:

- ``hits``: the words of the text that some recognizer or the injection detector declared as a
  keyword with :func:`keys` (one registry for all of them). The text is split once with
  ``bytes.translate`` + ``split`` and intersected once with the registry; every keyword gate
  is then a test against that small set.
- ``windows``: spans around runs of digits long enough to hold an identifier (one regex pass,
  only when the text has a digit); the number recognizers search only inside them.
- ``lower``: ``text.lower()`` with the same length as ``text``, so spans line up.
- ``clauses``: the stretches between sentence punctuation that contain given keywords, for
  recognizers whose matches never cross such punctuation (their patterns then run on a few
  dozen characters instead of the whole text).
"""

from __future__ import annotations

import re
from bisect import bisect_left

_PUNCT = b".,;:!?()[]{}\"'/\\=<>|*&#@+`~^%$\t\n\r-"
_TO_SPACE = bytes.maketrans(_PUNCT, b" " * len(_PUNCT))
# Digits with the separators identifiers are written with; at least 6 characters.
_DIGIT_RUN = re.compile(r"\d[\d \t.\-/()]{4,}\d")
_DIGIT_CHARS = "0123456789"
_WINDOW_BEFORE = 4  # room for "+33 ", a NIR's sex digit, a card's first group separator
_MERGE_GAP = 3  # "2A" inside a Corsican NIR splits its digit run
_CLAUSE_END = re.compile(r"[.!?;\n]")

# Every keyword any recognizer gates on (see :func:`keys`): a text's words are intersected
# with it once, and every gate tests the (small) intersection.
_REGISTRY: set[bytes] = set()


def keys(*words: str) -> frozenset[bytes]:
    """Keyword set in the form :attr:`TextView.hits` holds (lower-case UTF-8 bytes).

    The words are added to the shared registry, so a gate built with this function can be
    tested with :meth:`TextView.has_any`. Call it at import time (module level): a view
    computes its hits once, against the registry as it stands then.
    """
    found = frozenset(w.lower().encode() for w in words)
    _REGISTRY.update(found)
    return found


class TextView:
    """A text and its lazily computed views; see the module docstring."""

    __slots__ = (
        "_clause_ends", "_digit_windows", "_hits", "_lower", "_tokens", "_windows", "_words",
        "text",
    )  # fmt: skip

    def __init__(self, text: str) -> None:
        self.text = text
        self._lower: str | None = None
        self._tokens: list[bytes] | None = None
        self._hits: frozenset[bytes] | None = None
        self._words: frozenset[bytes] | None = None
        self._windows: list[tuple[int, int]] | None = None
        self._clause_ends: list[int] | None = None
        self._digit_windows: list[tuple[int, int, int]] | None = None

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
    def tokens(self) -> list[bytes]:
        """Lower-cased words split on spaces and punctuation (apostrophes, hyphens included),
        in text order, repeats kept."""
        if self._tokens is None:
            lower = self.lower
            if "’" in lower:
                lower = lower.replace("’", "'")
            self._tokens = lower.encode().translate(_TO_SPACE).split()
        return self._tokens

    @property
    def hits(self) -> frozenset[bytes]:
        """The words of the text that are registered keywords (see :func:`keys`)."""
        if self._hits is None:
            self._hits = frozenset(_REGISTRY.intersection(self.tokens))
        return self._hits

    @property
    def words(self) -> frozenset[bytes]:
        """Every distinct word of :attr:`tokens` (costlier than :attr:`hits`: for the few
        consumers that need words nobody registered)."""
        if self._words is None:
            self._words = frozenset(self.tokens)
        return self._words

    def has_any(self, wanted: frozenset[bytes]) -> bool:
        """True when one of ``wanted`` (a set made by :func:`keys`) is a word of the text."""
        return not wanted.isdisjoint(self.hits)

    @property
    def has_digits(self) -> bool:
        """Whether the text has an ASCII digit."""
        text = self.text
        return any(d in text for d in _DIGIT_CHARS)  # ten C scans beat a per-character set test

    @property
    def windows(self) -> list[tuple[int, int]]:
        """Spans (start, end) around digit runs of 6+ characters, merged when close."""
        if self._windows is None:
            spans: list[tuple[int, int]] = []
            if self.has_digits:
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

    def digit_windows(self, min_digits: int) -> list[tuple[int, int]]:
        """The :attr:`windows` holding at least ``min_digits`` decimal digits (what ``\\d``
        matches): a recognizer whose shortest match has that many digits skips the others."""
        if self._digit_windows is None:
            text = self.text
            self._digit_windows = [
                (s, e, sum(map(str.isdecimal, text[s:e]))) for s, e in self.windows
            ]
        return [(s, e) for s, e, n in self._digit_windows if n >= min_digits]

    def clauses(self, words: frozenset[bytes]) -> list[tuple[int, int]]:
        """Spans between sentence punctuation (``. ! ? ;`` and line ends) that contain one of
        ``words`` (keywords the text has: an intersection with :attr:`hits`), merged.

        A pattern that cannot match those characters finds the same matches in these spans as
        in the whole text: its lookbehind still sees the character before a span, and what it
        would see after one is punctuation, which no word-boundary test tells from the end.
        """
        lower = self.lower
        ends = self._clause_ends
        if ends is None:
            ends = self._clause_ends = [m.start() for m in _CLAUSE_END.finditer(lower)]
        spans: list[tuple[int, int]] = []
        n = len(lower)
        for word in words:
            needle = word.decode()
            at = lower.find(needle)
            while at >= 0:
                i = bisect_left(ends, at)
                start = ends[i - 1] + 1 if i > 0 else 0
                end = ends[i] if i < len(ends) else n
                spans.append((start, end))
                at = lower.find(needle, end)
        if len(spans) < 2:
            return spans
        spans.sort()
        merged = [spans[0]]
        for s, e in spans[1:]:
            if s <= merged[-1][1]:
                if e > merged[-1][1]:
                    merged[-1] = (merged[-1][0], e)
            else:
                merged.append((s, e))
        return merged
