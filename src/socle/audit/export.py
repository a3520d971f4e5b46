"""Export for auditors: JSONL with the records, the checkpoints and the public keys.

Line 1 is a header ``{"type": "header", "format": "socle-audit-export", "version": 1,
"exported_at", "from", "to", "public_keys": [PEM…]}``. Then, for each chain, a ``chain`` line
``{"name", "through_seq", "through_hash"}``, its ``checkpoint`` lines and its ``record`` lines in
sequence order (columns as stored, ``body`` being the exact hashed bytes). Encrypted content is
not exported; its digest is in each body.

A time range is widened to whole segments: the export starts right after the last checkpoint at
or before ``from`` (that checkpoint is included as the anchor) and ends at the first checkpoint
at or after ``to`` (or at the chain head), so ``socle audit verify --file`` checks it offline.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import IO, Any

import orjson

from socle.audit.checkpoint import CheckpointRow
from socle.audit.keys import TrustedKeys
from socle.audit.sources import EXPORT_FORMAT, RECORD_FIELDS, DatabaseSource

_FIELDS = [f for f in RECORD_FIELDS if f != "content"]


@dataclass(slots=True)
class ExportSummary:
    chains: int = 0
    records: int = 0
    checkpoints: int = 0
    per_chain: dict[str, tuple[int, int]] = field(default_factory=dict)  # (after, through)


def _line(item: dict[str, Any]) -> bytes:
    return orjson.dumps(item) + b"\n"


def _bounds(
    checkpoints: list[CheckpointRow],
    first_seq: int | None,
    head: tuple[int, str] | None,
    since: float | None,
    until: float | None,
) -> tuple[int, int, str] | None:
    """(after, through_seq, through_hash) of the whole segments covering [since, until)."""
    after = 0
    if since is not None:
        earlier = [cp.seq for cp in checkpoints if cp.ts <= since]
        after = earlier[-1] if earlier else 0
    if first_seq is not None and first_seq > after + 1:
        after = first_seq - 1  # purged: the anchor checkpoint sits just before
    if until is not None:
        later = [cp for cp in checkpoints if cp.ts >= until and cp.seq > after]
        if later:
            return after, later[0].seq, later[0].head_hash
    if head is None or head[0] <= after:
        return None
    return after, head[0], head[1]


async def export_jsonl(
    source: DatabaseSource,
    out: IO[bytes],
    trusted: TrustedKeys,
    *,
    since: float | None = None,
    until: float | None = None,
    chains: list[str] | None = None,
) -> ExportSummary:
    """Write the export to ``out``; returns what it holds."""
    summary = ExportSummary()
    out.write(
        _line(
            {
                "type": "header",
                "format": EXPORT_FORMAT,
                "version": 1,
                "exported_at": time.time(),
                "from": since,
                "to": until,
                "public_keys": trusted.pems(),
                "hash": "sha256(bytes.fromhex(prev_hash) + body.encode('utf-8'))",
            }
        )
    )
    async for name in source.chain_names():
        if chains and name not in chains:
            continue
        checkpoints = await source.checkpoints(name)
        head_row = await source.head(name)
        head = None
        if head_row.head_seq is not None and head_row.head_hash is not None:
            head = (head_row.head_seq, head_row.head_hash)
        bounds = _bounds(checkpoints, await source.first_seq(name), head, since, until)
        if bounds is None:
            continue
        after, through, through_hash = bounds
        out.write(
            _line(
                {
                    "type": "chain",
                    "name": name,
                    "through_seq": through,
                    "through_hash": through_hash,
                }
            )
        )
        for cp in checkpoints:
            if after <= cp.seq <= through:
                out.write(_line({"type": "checkpoint", **cp.as_row()}))
                summary.checkpoints += 1
        async for record in source.records(name, after, through):
            out.write(_line({"type": "record", **{f: getattr(record, f) for f in _FIELDS}}))
            summary.records += 1
        summary.chains += 1
        summary.per_chain[name] = (after, through)
    return summary
