"""Signed checkpoints: a statement "chain C had head hash H at sequence S", signed with Ed25519.

A checkpoint body is canonical JSON (see :mod:`socle.audit.canonical`)::

    {"chain", "key_id", "prev", "seq", "head_hash", "ts", "type": "checkpoint", "v": 1}

``prev`` is the SHA-256 of the previous checkpoint body of the same chain (null for the first),
so removing or replacing a checkpoint breaks the checkpoint chain as well. The signature covers
the body bytes. The chain head alone suffices (rather than a Merkle root of the segment) because
each record hash already commits to every record before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from socle.audit.canonical import canonical, sha256_hex
from socle.audit.keys import Signer


@dataclass(frozen=True, slots=True)
class CheckpointRow:
    """A checkpoint as stored or exported."""

    chain: str
    seq: int
    ts: float
    head_hash: str
    body: str
    signature: str
    key_id: str

    @property
    def digest(self) -> str:
        return sha256_hex(self.body.encode())

    def parsed(self) -> dict[str, Any] | None:
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    def as_row(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "seq": self.seq,
            "ts": self.ts,
            "head_hash": self.head_hash,
            "body": self.body,
            "signature": self.signature,
            "key_id": self.key_id,
        }


def make_checkpoint(
    signer: Signer, chain: str, seq: int, head_hash: str, ts: float, prev_digest: str | None
) -> CheckpointRow:
    """Build and sign the checkpoint of ``chain`` at ``seq``."""
    body = canonical(
        {
            "v": 1,
            "type": "checkpoint",
            "chain": chain,
            "seq": seq,
            "head_hash": head_hash,
            "ts": ts,
            "prev": prev_digest,
            "key_id": signer.key_id,
        }
    )
    return CheckpointRow(chain, seq, ts, head_hash, body.decode(), signer.sign(body), signer.key_id)
