"""Reversible pseudonymisation: typed placeholders out, original values back in.

Before a request leaves for a model, each entity is replaced by a placeholder such as
``[EMAIL_1]``; the same value (up to spacing and case) gets the same placeholder for the whole
request or conversation. In the answer, placeholders are replaced by the original values —
also in streamed chunks, where a placeholder may arrive split (``[EMA`` + ``IL_1]``).

The mapping lives in memory for the request. When a conversation needs it longer,
:meth:`PseudonymMap.seal` encrypts it (AES-256-GCM) for the caller to keep; it is never logged
(``repr`` shows counts only).
"""

from __future__ import annotations

import os
import re

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from socle.guards.findings import EMAIL, Finding

PLACEHOLDER = re.compile(r"\[([A-Z]+(?:_[A-Z]+)*)_(\d{1,6})\]")
# The longest placeholder a stream may have to wait for: "[" + label + "_" + 6 digits + "]".
MAX_PLACEHOLDER = 40
_PARTIAL = re.compile(r"\[(?:[A-Z]+(?:_[A-Z]*)*(?:_\d{0,6})?)?\Z")
_SEPARATORS = re.compile(r"[\s.\-/()]")


def canonical(kind: str, value: str) -> str:
    """The form under which two spellings of one value are the same entity."""
    if kind == EMAIL:
        return value.lower()
    if kind in ("person", "address", "health", "confidentiality_marker"):
        return " ".join(value.lower().split())
    stripped = _SEPARATORS.sub("", value)
    return stripped.upper() if stripped.isalnum() else value


class PseudonymMap:
    """Value ↔ placeholder mapping for one request or conversation."""

    __slots__ = ("_by_key", "_counters", "_reserved", "_values")

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._values: dict[str, str] = {}
        self._counters: dict[str, int] = {}
        self._reserved: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"PseudonymMap({len(self._values)} entries)"

    def __len__(self) -> int:
        return len(self._values)

    def reserve(self, texts: list[str]) -> None:
        """Never hand out a placeholder that already occurs literally in ``texts``: restoring
        would otherwise turn the user's own ``[EMAIL_1]`` into someone's address."""
        found = {m.group() for text in texts if "[" in text for m in PLACEHOLDER.finditer(text)}
        if found:
            self._reserved = self._reserved | found

    def placeholder(self, kind: str, value: str) -> str:
        """The placeholder of ``value`` (a new one the first time the value is seen)."""
        key = (kind, canonical(kind, value))
        existing = self._by_key.get(key)
        if existing is not None:
            return existing
        label = kind.upper()
        n = self._counters.get(label, 0)
        while True:
            n += 1
            candidate = f"[{label}_{n}]"
            if candidate not in self._reserved:
                break
        self._counters[label] = n
        self._by_key[key] = candidate
        self._values[candidate] = value
        return candidate

    def value(self, placeholder: str) -> str | None:
        """The original value behind ``placeholder``, if it is one of ours."""
        return self._values.get(placeholder)

    def restore(self, text: str, *, json_string: bool = False) -> str:
        """``text`` with every known placeholder replaced by its value. With ``json_string``
        the value is escaped for the inside of a JSON string (tool-call arguments)."""
        if not self._values or "[" not in text:
            return text

        def swap(m: re.Match[str]) -> str:
            value = self._values.get(m.group())
            if value is None:
                return m.group()
            return orjson.dumps(value).decode()[1:-1] if json_string else value

        return PLACEHOLDER.sub(swap, text)

    def seal(self, key: bytes) -> bytes:
        """The mapping encrypted with AES-256-GCM under ``key`` (32 bytes): nonce ‖ ciphertext."""
        nonce = os.urandom(12)
        entries = [[kind, canon, ph] for (kind, canon), ph in self._by_key.items()]
        payload = orjson.dumps(
            {"values": self._values, "counters": self._counters, "entries": entries}
        )
        return nonce + AESGCM(key).encrypt(nonce, payload, b"socle.guards.pseudonyms")

    @classmethod
    def unseal(cls, blob: bytes, key: bytes) -> PseudonymMap:
        """The mapping :meth:`seal` encrypted; raises ``InvalidTag`` if it was tampered with."""
        data = orjson.loads(AESGCM(key).decrypt(blob[:12], blob[12:], b"socle.guards.pseudonyms"))
        mapping = cls()
        mapping._values = dict(data["values"])
        mapping._counters = dict(data["counters"])
        mapping._by_key = {(kind, canon): ph for kind, canon, ph in data["entries"]}
        return mapping


def rewrite(text: str, findings: list[Finding], replacement: dict[int, str]) -> str:
    """``text`` with the span of ``findings[i]`` replaced by ``replacement[i]`` for each i in
    ``replacement`` (findings sorted by start, non-overlapping)."""
    if not replacement:
        return text
    parts: list[str] = []
    pos = 0
    for i, f in enumerate(findings):
        new = replacement.get(i)
        if new is None:
            continue
        parts.append(text[pos : f.start])
        parts.append(new)
        pos = f.end
    parts.append(text[pos:])
    return "".join(parts)


def mask(kind: str) -> str:
    """The irreversible replacement of a masked entity."""
    return f"[{kind.upper()}_MASKED]"


class StreamRestorer:
    """Restores placeholders in a stream of text pieces, holding back a possible partial one.

    At most :data:`MAX_PLACEHOLDER` characters are held, and only while they can still become a
    placeholder; :meth:`flush` releases them at the end of the stream.
    """

    __slots__ = ("_held", "_json", "_map")

    def __init__(self, mapping: PseudonymMap, *, json_string: bool = False) -> None:
        self._map = mapping
        self._held = ""
        self._json = json_string

    def feed(self, piece: str) -> str:
        """The text that can be released after ``piece`` arrived."""
        text = self._held + piece
        self._held = ""
        start = text.rfind("[")
        if start < 0:
            return text
        # Hold the raw tail while it can still grow into a placeholder; a placeholder has a
        # single "[", so none can straddle the cut.
        if len(text) - start < MAX_PLACEHOLDER and _PARTIAL.match(text, start):
            self._held = text[start:]
            text = text[:start]
        return self._map.restore(text, json_string=self._json)

    def flush(self) -> str:
        """Whatever is still held (a ``[`` that never became a placeholder)."""
        held, self._held = self._held, ""
        return self._map.restore(held, json_string=self._json)
