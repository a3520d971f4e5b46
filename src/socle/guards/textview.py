"""One text prepared once for all recognizers: lower-cased copy, keyword hits, digit windows.

Python's ``re`` costs 15–200 ns per character for every pass of a pattern over a text (more
for long alternations), so a dozen recognizers each scanning a 500-character message would
blow the hot-path budget. Instead the recognizers share cheap views computed at most once per
text, and each runs its patterns only where a view says a match is possible:

- ``hits``: the words of the text that some recognizer or the injection detector declared as a
  keyword with :func:`keys` (one registry for all of them). The text is split once with
  ``bytes.translate`` + ``split`` and intersected once with the registry; every keyword gate
  is then a test against that small set.
- ``windows``: spans around runs of digits long enough to hold an identifier (only when the
  text has a digit); the number recognizers search only inside them.
- ``shape``: for the usual Latin-1 / Windows-1252 text, one byte per character that keeps only
  what the digit patterns look at (a digit, a space, another separator digits are grouped
  with, anything else). Patterns over it start with a literal byte, which ``re`` finds with a
  plain memory scan instead of testing a character class at every position (~5 ns per
  character): digit runs are found for a fraction of a regex pass over the text, at the same
  offsets.
- ``lower``: ``text.lower()`` with the same length as ``text``, so spans line up. For Latin-1
  text it is one ``bytes.translate`` (``str.lower`` looks every non-ASCII character up in the
  Unicode tables: three times slower on French).
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
# :attr:`TextView.shape`: "0" for a digit, " " for a space or a tab, "s" for the other
# separators of _DIGIT_RUN, "x" for anything else. Latin-1 and Windows-1252 have no decimal
# digit but the ASCII ones (``\d`` matches exactly these bytes) and every separator is ASCII,
# so the shape classes each character as the str patterns do (tests/unit/guards/
# test_prefilter.py checks every byte of both code pages).
_SHAPE = bytes(
    ord("0") if b in b"0123456789" else ord(" ") if b in b" \t" else
    ord("s") if b in b".-/()" else ord("x")
    for b in range(256)
)  # fmt: skip
# _DIGIT_RUN over the shape: the same spans.
_SHAPE_DIGIT_RUN = re.compile(rb"0[0 s]{4,}0")
# See TextView.numbers_before_words (the leading literal keeps the search a memory scan; the
# lookbehind then rejects a start inside a longer run).
_SHAPE_NUMBERS = {n: re.compile(rb"0(?<!00)0{0,%d}(?=[ x])" % (n - 1)) for n in range(1, 7)}
# str.lower of every Latin-1 character is one Latin-1 character.
_LATIN1_LOWER = "".join(chr(c).lower() for c in range(256)).encode("latin-1")
_WINDOW_BEFORE = 4  # room for "+33 ", a NIR's sex digit, a card's first group separator
_MERGE_GAP = 3  # "2A" inside a Corsican NIR splits its digit run
_CLAUSE_END = re.compile(r"[.!?;\n]")

# Every keyword any recognizer gates on (see :func:`keys`): a text's words are intersected
# with it once, and every gate tests the (small) intersection.
_REGISTRY: set[bytes] = set()
# The keywords that Latin-1 can spell, in Latin-1 → as in _REGISTRY (UTF-8): for Latin-1 text,
# whose words are found in one translate of its Latin-1 bytes (see TextView.hits).
_LATIN1_REGISTRY: dict[bytes, bytes] = {}
_LATIN1_KEYWORDS: set[bytes] = set()  # its keys, as a set (the faster intersection)
# Latin-1 byte → its lower-case form, or a space for the separators of TextView.tokens.
_LATIN1_WORD_BYTES = _LATIN1_LOWER.translate(_TO_SPACE)


def keys(*words: str) -> frozenset[bytes]:
    """Keyword set in the form :attr:`TextView.hits` holds (lower-case UTF-8 bytes).

    The words are added to the shared registry, so a gate built with this function can be
    tested with :meth:`TextView.has_any`. Call it at import time (module level): a view
    computes its hits once, against the registry as it stands then.
    """
    found = frozenset(w.lower().encode() for w in words)
    _REGISTRY.update(found)
    for word in found:
        try:
            spelt = word.decode().encode("latin-1")
        except UnicodeEncodeError:
            continue  # no Latin-1 text holds this word
        _LATIN1_REGISTRY[spelt] = word
        _LATIN1_KEYWORDS.add(spelt)
    return found


class TextView:
    """A text and its lazily computed views; see the module docstring."""

    __slots__ = (
        "_clause_ends", "_digit_windows", "_encoded", "_has_digits", "_hits", "_latin1", "_lower",
        "_shape", "_shaped", "_tokens", "_windows", "_words", "text",
    )  # fmt: skip

    def __init__(self, text: str) -> None:
        self.text = text
        self._has_digits: bool | None = None
        self._latin1: bytes | None = None
        self._encoded = False
        self._shape: bytes | None = None
        self._shaped = False
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
            latin1 = None if self.text.isascii() else self.latin1
            if latin1 is not None:
                self._lower = latin1.translate(_LATIN1_LOWER).decode("latin-1")
                return self._lower
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
            latin1 = self.latin1 if self._tokens is None else None
            if latin1 is not None:
                # The words of :attr:`tokens` in Latin-1 (lower-cased, split on the same
                # separators, all ASCII) from one translate, without the UTF-8 copy.
                words = _LATIN1_KEYWORDS.intersection(latin1.translate(_LATIN1_WORD_BYTES).split())
                self._hits = frozenset(map(_LATIN1_REGISTRY.__getitem__, words))
            else:
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
        if self._has_digits is None:
            text = self.text
            # Ten C scans beat a per-character set test.
            self._has_digits = any(map(text.__contains__, _DIGIT_CHARS))
        return self._has_digits

    @property
    def latin1(self) -> bytes | None:
        """The text encoded in Latin-1, or None when it has other characters."""
        if not self._encoded:
            self._encoded = True
            raw = self.text.encode("latin-1", "ignore")
            self._latin1 = raw if len(raw) == len(self.text) else None
        return self._latin1

    @property
    def shape(self) -> bytes | None:
        """The text as one class byte per character (see the module docstring), or None when
        some character is neither Latin-1 nor Windows-1252 (other scripts, emoji): the
        callers then run their patterns over the text itself."""
        if not self._shaped:
            self._shaped = True
            raw = self.latin1
            if raw is None:
                try:
                    raw = self.text.encode("cp1252")  # ’ “ ” € œ …
                except UnicodeEncodeError:
                    return None
            self._shape = raw.translate(_SHAPE)
        return self._shape

    def numbers_before_words(self, longest: int) -> list[int] | None:
        """The start of every run of 1 to ``longest`` (at most 6) decimal digits that a space,
        a tab or another character than a digit or a separator of digit groups (``. - / ( )``)
        follows — a number written before a word, as in "12 rue", "3bis", "7, " — in order;
        None when the text has no :attr:`shape` (the caller then searches the whole text)."""
        shape = self.shape
        if shape is None:
            return None
        return [m.start() for m in _SHAPE_NUMBERS[longest].finditer(shape)]

    @property
    def windows(self) -> list[tuple[int, int]]:
        """Spans (start, end) around digit runs of 6+ characters, merged when close."""
        if self._windows is None:
            spans: list[tuple[int, int]] = []
            if self.has_digits:
                n = len(self.text)
                shape = self.shape
                runs = (
                    _DIGIT_RUN.finditer(self.text)
                    if shape is None
                    else _SHAPE_DIGIT_RUN.finditer(shape)
                )
                for m in runs:
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
