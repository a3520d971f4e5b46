"""The fast path: every regex recognizer run over one text, overlaps resolved.

Each recognizer starts with a cheap test (a character present, a keyword among the text's
words) and only then runs its candidate regexes; validation (check digits, context) runs on
candidates only.

On ordinary prose most of those tests fail, and then the Python call of each recognizer costs
as much as its test. So the scanner first asks, once per text, the questions that several
recognizers share (the prefilters of :data:`_RECOGNIZERS`, answered from the text's cached
views): a recognizer whose prefilter says no is not called. A prefilter only ever skips a
recognizer that could not have found anything — it tests a necessary condition of every
match, never a new one (tests/unit/guards/test_prefilter.py compares prefiltered and
unfiltered scans).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from socle.guards import credentials, pii, sensitivity
from socle.guards.findings import (
    ADDRESS,
    CONFIDENTIALITY_MARKER,
    CREDIT_CARD,
    DATE_OF_BIRTH,
    EMAIL,
    HEALTH,
    IBAN,
    IP_ADDRESS,
    NIR,
    PHONE,
    SECRET,
    SIREN,
    SIRET,
    Finding,
    resolve_overlaps,
)
from socle.guards.textview import TextView

Recognizer = Callable[[TextView, list[Finding]], None]
Prefilter = Callable[[TextView], bool]


def _has_digit_windows(view: TextView) -> bool:
    """The number recognizers search the digit windows only: none, nothing to find."""
    return bool(view.windows)


def _ip_candidates(view: TextView) -> bool:
    """IPv4 addresses lie in digit windows; IPv6 ones need close colons."""
    return bool(view.windows) or pii.ipv6_search_start(view.text) is not None


# Each recognizer, the finding types it produces, and the prefilter it needs to pass (None:
# its own test is as cheap as any shared one).
_RECOGNIZERS: tuple[tuple[Recognizer, frozenset[str], Prefilter | None], ...] = (
    (credentials.find_secrets, frozenset({SECRET}), None),
    (pii.find_emails, frozenset({EMAIL}), None),
    (pii.find_ibans, frozenset({IBAN}), _has_digit_windows),
    (pii.find_nirs, frozenset({NIR}), _has_digit_windows),
    (pii.find_cards, frozenset({CREDIT_CARD}), _has_digit_windows),
    (pii.find_company_ids, frozenset({SIREN, SIRET}), _has_digit_windows),
    (pii.find_phones, frozenset({PHONE}), _has_digit_windows),
    (pii.find_ips, frozenset({IP_ADDRESS}), _ip_candidates),
    (pii.find_birth_dates, frozenset({DATE_OF_BIRTH}), None),
    (pii.find_addresses, frozenset({ADDRESS}), None),
    (sensitivity.find_markers, frozenset({CONFIDENTIALITY_MARKER}), None),
    (sensitivity.find_health, frozenset({HEALTH}), None),
)

FAST_PATH_TYPES: frozenset[str] = frozenset().union(*(types for _, types, _ in _RECOGNIZERS))


class EntityScanner:
    """Runs the recognizers of the enabled finding types over a text.

    Built once (per policy set) and shared: it holds no per-request state.
    """

    __slots__ = ("_groups", "types")

    def __init__(self, types: Iterable[str] | None = None) -> None:
        wanted = FAST_PATH_TYPES if types is None else frozenset(types) & FAST_PATH_TYPES
        self.types = wanted
        # Consecutive recognizers under one prefilter form a group: the prefilter is asked
        # once for all of them, and the recognizers keep their order.
        groups: list[tuple[Prefilter | None, list[Recognizer]]] = []
        for fn, kinds, prefilter in _RECOGNIZERS:
            if not kinds & wanted:
                continue
            if groups and groups[-1][0] is prefilter and prefilter is not None:
                groups[-1][1].append(fn)
            else:
                groups.append((prefilter, [fn]))
        self._groups = tuple((prefilter, tuple(fns)) for prefilter, fns in groups)

    def scan(self, text: str | TextView) -> list[Finding]:
        """Findings in ``text``, sorted by start, without overlaps."""
        view = text if isinstance(text, TextView) else TextView(text)
        out: list[Finding] = []
        for prefilter, recognizers in self._groups:
            if prefilter is None or prefilter(view):
                for fn in recognizers:
                    fn(view, out)
        if not out:
            return out
        if len(self.types) != len(FAST_PATH_TYPES):
            out = [f for f in out if f.type in self.types]
        return resolve_overlaps(out)
