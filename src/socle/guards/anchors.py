"""Run a pattern only where one of its literal prefixes occurs.

``re`` tries a pattern at every position of a text. For the long alternations of keywords the
injection and marker patterns are made of, that costs 50–400 ns per character, i.e. up to
200 µs on a 500-character message. But nearly every alternative starts with a literal word
(``ignore…``, ``reveal…``, ``[system]``…): a match can only start where one of those prefixes
occurs, and ``str.find`` locates a few letters in a short text in a fraction of a microsecond.

:class:`AnchoredPattern` derives the prefixes once, from the pattern's own parse tree (so they
cannot drift from the pattern), finds their occurrences in the lower-cased text, and calls
``pattern.match`` there. The matches are exactly those of ``pattern.finditer``: every match
starts with one of the prefixes, and candidates are tried left to right, skipping those inside
the previous match, as ``finditer`` does. A pattern whose matches may start with something
that is not a literal (a character class, ``.``) has no prefixes and is run as usual.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

with warnings.catch_warnings():
    # The parser is only reachable under its deprecated name in a typed way; it is used once
    # per pattern at import time.
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_constants as _c
    import sre_parse

TEXT_START = "\x00^"  # pseudo-prefixes: the match starts at the start of the text / of a line
LINE_START = "\x00^m"
BOUNDARY = "\x01"  # marks a prefix that starts a word (a \b or lookbehind came before it)
_PREFIX_LEN = 3  # longer prefixes: fewer false candidates, but more of them to look for
_MAX_PREFIXES = 400
_MAX_CLASS = 12  # a character class of at most this many characters is expanded
# Characters from rarest to commonest in folded French and English prose (rough ranks;
# characters not listed — punctuation, digits, other scripts — count as rarest).
_RARE_ORDER = "zkjxwqyvbfghpmcdulorntisae "
# What ``\s`` matches in a str pattern (``str.isspace``; none lies above U+3000).
UNICODE_SPACES = tuple(c for c in map(chr, range(0x3001)) if c.isspace())


class AnchoredPattern:
    """A compiled pattern and the literal prefixes its matches start with (lower-cased)."""

    __slots__ = ("_groups", "_pseudo", "pattern", "prefixes")

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern
        self.prefixes = literal_prefixes(pattern)
        # Prefixes grouped under their rarest character: one test of that character rules out
        # the whole group on most texts (a filter only: the finds below decide).
        groups: dict[str, list[str]] = {}
        pseudo: list[str] = []
        for prefix in self.prefixes or ():
            if prefix[0] == "\x00":
                pseudo.append(prefix)
            else:
                groups.setdefault(min(prefix, key=_RARE_ORDER.find), []).append(prefix)
        self._groups = tuple((key, tuple(group)) for key, group in groups.items())
        self._pseudo = tuple(pseudo)

    def finditer(
        self,
        text: str,
        lower: str | None = None,
        pos: int = 0,
        endpos: int | None = None,
    ) -> Iterator[re.Match[str]]:
        """The matches of the pattern in ``text[pos:endpos]``, as ``finditer`` gives them.
        ``lower`` is ``text`` lower-cased (same length) unless ``text`` is lower case."""
        if self.prefixes is None:
            stop = len(text) if endpos is None else endpos
            yield from self.pattern.finditer(text, pos, stop)
            return
        haystack = text if lower is None else lower
        stop = len(text) if endpos is None else endpos
        starts: set[int] = set()
        for prefix in self._pseudo:
            starts.add(0)
            if prefix == LINE_START:
                at = haystack.find("\n", pos, stop)
                while at >= 0:
                    starts.add(at + 1)
                    at = haystack.find("\n", at + 1, stop)
        for key, group in self._groups:
            if key not in haystack:
                continue
            for prefix in group:
                at = haystack.find(prefix, pos, stop)
                while at >= 0:
                    starts.add(at)
                    at = haystack.find(prefix, at + 1, stop)
        end = pos
        match = self.pattern.match
        for at in sorted(starts):
            if at < end:
                continue
            m = match(text, at, stop)
            if m is not None:
                yield m
                end = m.end() if m.end() > at else at + 1

    def search(
        self,
        text: str,
        lower: str | None = None,
        pos: int = 0,
        endpos: int | None = None,
    ) -> re.Match[str] | None:
        """The first match in ``text[pos:endpos]``, or None."""
        return next(self.finditer(text, lower, pos, endpos), None)


def literal_prefixes(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-cased literal strings (up to a few characters) one of which every match of
    ``pattern`` starts with, or None when a match may start otherwise."""
    if pattern.flags & re.VERBOSE:
        return None
    tree = sre_parse.parse(pattern.pattern, pattern.flags & ~re.UNICODE)
    found: set[str] = set()
    try:
        _expand(list(tree.data), "", found, multiline=bool(pattern.flags & re.MULTILINE))
    except _NoPrefix:
        return None
    if not found or "" in found or BOUNDARY in found:
        return None
    # (Whether a word boundary came first does not help here: drop the mark.)
    found = {p.lstrip(BOUNDARY) for p in found}
    # Drop prefixes that extend another one: the shorter finds all their occurrences.
    kept = sorted(found, key=len)
    out: list[str] = []
    for p in kept:
        if not any(p.startswith(q) for q in out):
            out.append(p)
    return tuple(out)


class _NoPrefix(Exception):
    """A match may start with a non-literal (or the expansion grew too large)."""


_ZERO_WIDTH = (_c.AT, _c.ASSERT, _c.ASSERT_NOT)


def _expand(
    seq: list[Any], prefix: str, found: set[str], depth: int = 0, multiline: bool = False
) -> None:
    """Add to ``found`` the prefixes of the strings ``seq`` matches, each extended from
    ``prefix`` while it is shorter than :data:`_PREFIX_LEN`."""
    if len(found) > _MAX_PREFIXES or depth > 400:
        raise _NoPrefix
    depth += 1
    if len(prefix.lstrip(BOUNDARY)) >= _PREFIX_LEN or not seq:
        found.add(prefix)
        return
    op, av = seq[0]
    rest = seq[1:]
    if not prefix and (
        (op is _c.AT and av is _c.AT_BOUNDARY) or (op is _c.ASSERT_NOT and _not_after_word(av))
    ):
        # A word boundary (or a lookbehind excluding what precedes): the match starts a word.
        _expand(rest, BOUNDARY, found, depth, multiline)
    elif op is _c.AT and av in (_c.AT_BEGINNING, _c.AT_BEGINNING_STRING) and not prefix:
        # "^": the match starts where the text (or, multi-line, a line) starts.
        found.add(LINE_START if multiline and av is _c.AT_BEGINNING else TEXT_START)
    elif op in _ZERO_WIDTH:
        _expand(rest, prefix, found, depth, multiline)
    elif op is _c.LITERAL:
        ch = chr(av).lower()
        if len(ch) != 1:
            _finish(prefix, found)
        else:
            _expand(rest, prefix + ch, found, depth, multiline)
    elif op is _c.IN:
        # A class with \\s is expanded only where the match starts: elsewhere it would multiply
        # the prefixes, there it is what stands between the pattern and having prefixes at all.
        chars = _class_chars(av, spaces=not prefix.lstrip(BOUNDARY))
        if chars is None:
            _finish(prefix, found)
        else:
            for ch in chars:
                _expand(rest, prefix + ch, found, depth, multiline)
    elif op is _c.SUBPATTERN:
        # (?m:…) only changes what "^" means, and "^" only matters before any literal.
        local = multiline or bool(av[1] & re.MULTILINE)
        _expand(list(av[-1]) + rest, prefix, found, depth, local)
    elif op is _c.BRANCH:
        for alternative in av[1]:
            _expand(list(alternative) + rest, prefix, found, depth, multiline)
    elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        lo, hi, item = av
        if lo == 0:
            _expand(rest, prefix, found, depth, multiline)  # the item may be absent
        if hi != 0:
            again = [] if hi == 1 else [(op, (max(lo - 1, 0), hi if hi == _c.MAXREPEAT else hi - 1,
                                             item))]  # fmt: skip
            _expand(list(item) + again + rest, prefix, found, depth, multiline)
    elif op is _c.ATOMIC_GROUP:
        _expand(list(av) + rest, prefix, found, depth, multiline)
    else:
        _finish(prefix, found)


def _not_after_word(av: Any) -> bool:
    """Whether a negative assertion is a lookbehind of one character that excludes ``\\w``."""
    direction, sub = av
    items = list(sub)
    if direction != -1 or len(items) != 1 or items[0][0] is not _c.IN:
        return False
    return any(op is _c.CATEGORY and a is _c.CATEGORY_WORD for op, a in items[0][1])


def _finish(prefix: str, found: set[str]) -> None:
    if not prefix.lstrip(BOUNDARY):
        raise _NoPrefix
    found.add(prefix)


def _class_chars(items: list[Any], spaces: bool = False) -> list[str] | None:
    """The lower-cased characters of a small character class, or None. With ``spaces``, ``\\s``
    counts as the whitespace characters it matches in a ``str`` pattern."""
    chars: set[str] = set()
    limit = _MAX_CLASS
    for op, av in items:
        if op is _c.LITERAL:
            chars.add(chr(av).lower())
        elif op is _c.RANGE and av[1] - av[0] < _MAX_CLASS:
            chars.update(chr(c).lower() for c in range(av[0], av[1] + 1))
        elif spaces and op is _c.CATEGORY and av is _c.CATEGORY_SPACE:
            chars.update(UNICODE_SPACES)
            limit = _MAX_CLASS + len(UNICODE_SPACES)
        else:
            return None
        if len(chars) > limit:
            return None
    if any(len(c) != 1 for c in chars):
        return None
    return sorted(chars)
