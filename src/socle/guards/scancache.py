"""A bounded LRU of scan results, so that a conversation's history is not scanned again.

Chat clients resend the whole conversation on every turn: the system prompt and the earlier
messages come back unchanged, request after request. Their scan results (entity findings and
injection verdict) depend only on the text and on the scanner, so they are kept here, keyed
by the exact text (the dict hashes it and confirms a hit by comparing the strings: no
collision can hand one text the findings of another). Every message is still checked on every
request: a cached result is the result the scan would give.

Bounded by entries and by total characters. The entries hold message text and found values in
process memory, like the request itself does while it is served; nothing is written anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from socle.guards.findings import Finding
from socle.guards.injection import Verdict


@dataclass(slots=True)
class ScanResult:
    """What the scans found in one text (``verdict`` None until the injection score ran)."""

    findings: tuple[Finding, ...]
    verdict: Verdict | None = None


class ScanCache:
    """Text → :class:`ScanResult`, least recently used out first."""

    __slots__ = ("_chars", "_entries", "_max_chars", "_max_entries")

    def __init__(self, max_entries: int, max_chars: int) -> None:
        self._entries: dict[str, ScanResult] = {}
        self._max_entries = max_entries
        self._max_chars = max_chars
        self._chars = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, text: str) -> ScanResult | None:
        """The cached result for ``text`` (now the most recently used), or None."""
        result = self._entries.pop(text, None)
        if result is not None:
            self._entries[text] = result
        return result

    def put(self, text: str, result: ScanResult) -> None:
        """Keep ``result`` for ``text``, evicting the least recently used beyond the bounds."""
        if self._max_entries == 0 or len(text) > self._max_chars:
            return
        old = self._entries.pop(text, None)
        if old is None:
            self._chars += len(text)
        self._entries[text] = result
        while len(self._entries) > self._max_entries or self._chars > self._max_chars:
            oldest = next(iter(self._entries))
            del self._entries[oldest]
            self._chars -= len(oldest)
