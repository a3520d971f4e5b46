"""Canonical serialisation and hashing of records and checkpoints (documented in docs/audit.md).

Canonical form: UTF-8 JSON without whitespace, object keys sorted, as produced by orjson with
``OPT_SORT_KEYS``. Integers are written in decimal; floats as the shortest decimal that reads back
as the same IEEE-754 double (``1e-7``, ``0.30000000000000004``, ``100.0``); NaN and infinities,
which JSON cannot carry, are written as ``null``. A verifier hashes the stored bytes, so it never
needs to reproduce the float formatting; the rules matter only to the writer, which must be
deterministic.

Record hash: ``SHA-256(bytes.fromhex(prev_hash) || body)``, hex-encoded, where ``prev_hash`` is the
hash of the previous record of the same chain, or 64 zeros for the first one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from enum import Enum
from typing import Any

import orjson

GENESIS = "0" * 64
_OPTIONS = orjson.OPT_SORT_KEYS


def _default(value: Any) -> Any:
    """Types orjson does not know: sets become sorted lists; anything else its ``str``."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, Enum):
        return value.value
    to_audit = getattr(value, "to_audit", None)
    if callable(to_audit):
        return to_audit()
    return str(value)


def canonical(value: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a JSON object."""
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def chain_hash(prev_hash: str, body: bytes) -> str:
    """The hash of a record whose canonical body is ``body`` and predecessor hash ``prev_hash``."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
