"""What a recognizer reports, and how a finding is written down without its value.

A :class:`Finding` holds the matched value in memory because masking and pseudonymisation need
it; the value never leaves the process: :meth:`Finding.record` turns a finding into the plain dict
handed to the audit stage, with a keyed hash of the value in place of the value.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

# Finding types. Policies name these; the classification rules may also name a rule id.
EMAIL = "email"
PHONE = "phone"
NIR = "nir"
IBAN = "iban"
SIREN = "siren"
SIRET = "siret"
CREDIT_CARD = "credit_card"
IP_ADDRESS = "ip_address"
DATE_OF_BIRTH = "date_of_birth"
ADDRESS = "address"
PERSON = "person"
SECRET = "secret"  # noqa: S105 (a finding type, not a password)
CONFIDENTIALITY_MARKER = "confidentiality_marker"
HEALTH = "health"
PROMPT_INJECTION = "prompt_injection"
SYSTEM_PROMPT_LEAK = "system_prompt_leak"

PII_TYPES: tuple[str, ...] = (
    EMAIL, PHONE, NIR, IBAN, SIREN, SIRET, CREDIT_CARD, IP_ADDRESS, DATE_OF_BIRTH, ADDRESS, PERSON,
)  # fmt: skip
ENTITY_TYPES: tuple[str, ...] = (*PII_TYPES, SECRET, CONFIDENTIALITY_MARKER, HEALTH)
ALL_TYPES: tuple[str, ...] = (*ENTITY_TYPES, PROMPT_INJECTION, SYSTEM_PROMPT_LEAK)


@dataclass(slots=True)
class Finding:
    """One recognised entity: its type, span in the scanned text, rule and confidence.

    ``value`` is the matched text (or the part of it that is sensitive, e.g. the password of a
    connection string); it is excluded from ``repr`` so that it cannot slip into a log line.
    """

    type: str
    start: int
    end: int
    rule: str
    confidence: float
    value: str = field(repr=False)

    def record(
        self, hasher: ValueHasher, action: str, message_index: int | None, role: str | None
    ) -> dict[str, Any]:
        """The JSON-able dict given to the audit stage: everything but the value itself."""
        return {
            "type": self.type,
            "rule": self.rule,
            "start": self.start,
            "end": self.end,
            "message_index": message_index,
            "role": role,
            "confidence": round(self.confidence, 3),
            "action": action,
            "hash": hasher.digest(self.type, self.value),
        }


class ValueHasher:
    """HMAC-SHA256 of a finding's value under the gateway's secret key.

    The keyed hash lets an auditor tell that two findings carried the same value (or check a
    value they already hold) without the trail ever storing it; without the key it cannot be
    brute-forced from the small space of, say, phone numbers.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the guards hash key must be at least 16 bytes")
        # A key of its own, derived from the gateway's: the same secret may key other MACs
        # (API key hashes), and a finding hash must never be comparable with those.
        self._key = hmac.new(key, b"socle.guards.finding-hash", hashlib.sha256).digest()

    def digest(self, kind: str, value: str) -> str:
        """Hex HMAC of ``kind:value``, truncated to 128 bits (plenty against collisions)."""
        mac = hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """Keep the most confident (then the longest) of overlapping findings, sorted by start.

    Two recognizers may claim the same digits (a SIRET inside a card-shaped run, a JWT that also
    looks like a high-entropy token): the span goes to one finding only, so that masking and
    pseudonymisation rewrite each character once.
    """
    if len(findings) < 2:
        return findings
    ranked = sorted(findings, key=lambda f: (-f.confidence, f.start - f.end, f.start))
    kept: list[Finding] = []
    for cand in ranked:
        if all(cand.end <= k.start or cand.start >= k.end for k in kept):
            kept.append(cand)
    kept.sort(key=lambda f: f.start)
    return kept
