"""The fast path: every regex recognizer run over one text, overlaps resolved.

Each recognizer starts with a cheap test (a character present, one trigger regex) and only
then runs its candidate regexes; validation (check digits, context) runs on candidates only.
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

# Each recognizer and the finding types it produces.
_RECOGNIZERS: tuple[tuple[Recognizer, frozenset[str]], ...] = (
    (credentials.find_secrets, frozenset({SECRET})),
    (pii.find_emails, frozenset({EMAIL})),
    (pii.find_ibans, frozenset({IBAN})),
    (pii.find_nirs, frozenset({NIR})),
    (pii.find_cards, frozenset({CREDIT_CARD})),
    (pii.find_company_ids, frozenset({SIREN, SIRET})),
    (pii.find_phones, frozenset({PHONE})),
    (pii.find_ips, frozenset({IP_ADDRESS})),
    (pii.find_birth_dates, frozenset({DATE_OF_BIRTH})),
    (pii.find_addresses, frozenset({ADDRESS})),
    (sensitivity.find_markers, frozenset({CONFIDENTIALITY_MARKER})),
    (sensitivity.find_health, frozenset({HEALTH})),
)

FAST_PATH_TYPES: frozenset[str] = frozenset().union(*(types for _, types in _RECOGNIZERS))


class EntityScanner:
    """Runs the recognizers of the enabled finding types over a text.

    Built once (per policy set) and shared: it holds no per-request state.
    """

    __slots__ = ("_recognizers", "types")

    def __init__(self, types: Iterable[str] | None = None) -> None:
        wanted = FAST_PATH_TYPES if types is None else frozenset(types) & FAST_PATH_TYPES
        self.types = wanted
        self._recognizers = tuple(fn for fn, kinds in _RECOGNIZERS if kinds & wanted)

    def scan(self, text: str | TextView) -> list[Finding]:
        """Findings in ``text``, sorted by start, without overlaps."""
        view = text if isinstance(text, TextView) else TextView(text)
        out: list[Finding] = []
        for fn in self._recognizers:
            fn(view, out)
        if not out:
            return out
        if len(self.types) != len(FAST_PATH_TYPES):
            out = [f for f in out if f.type in self.types]
        return resolve_overlaps(out)
