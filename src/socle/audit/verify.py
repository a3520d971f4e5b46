"""Verification of chains and checkpoints: proves nothing was edited, removed, added or reordered.

For each chain: every checkpoint must carry a good signature by a trusted key and link to the
previous checkpoint; every record must hash to its stored hash, link to its predecessor, sit at
the position its signed body names, agree with its projected columns and content digest; the
record at each checkpoint must have the checkpointed hash; and the records must reach the chain's
head. The first problem of each chain is reported with its kind (see :class:`Tamper`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from socle.audit.canonical import GENESIS, chain_hash, sha256_hex
from socle.audit.checkpoint import CheckpointRow
from socle.audit.keys import TrustedKeys
from socle.audit.sources import PROJECTED, ChainHead, ChainSource, RecordRow


class Tamper(StrEnum):
    """The kinds of tampering verify tells apart."""

    ALTERED = "altered"  # a record's content or columns changed
    DELETED = "deleted"  # a record is missing (a gap in the sequence)
    REORDERED = "reordered"  # a record sits at another record's position
    INSERTED = "inserted"  # a record was added (extra position or beyond the head)
    FORGED = "forged"  # a record was replaced by another, self-consistent one
    TRUNCATED = "truncated"  # records are missing at the end of the chain
    CHECKPOINT_MISMATCH = "checkpoint_mismatch"  # chain rewritten after a checkpoint was signed
    BAD_SIGNATURE = "bad_signature"  # a checkpoint was edited or its signature replaced
    UNKNOWN_KEY = "unknown_key"  # a checkpoint signed by a key that is not trusted
    CHECKPOINT_MISSING = "checkpoint_missing"  # a checkpoint was removed or replaced
    HEAD_MISMATCH = "head_mismatch"  # the chain's head row disagrees with its records


@dataclass(frozen=True, slots=True)
class Problem:
    """The first bad spot of a chain."""

    chain: str
    kind: Tamper
    seq: int
    message: str
    request_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "kind": self.kind.value,
            "seq": self.seq,
            "message": self.message,
            "request_id": self.request_id,
        }


@dataclass(slots=True)
class ChainResult:
    """What verify found in one chain."""

    name: str
    records: int = 0
    checkpoints: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    anchored_at: int = 0  # records up to this seq were purged (or skipped with --from)
    signed_through: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> Problem | None:
        return min(self.problems, key=lambda p: p.seq) if self.problems else None

    @property
    def unsigned_tail(self) -> int:
        """Records after the last checkpoint: protected only by the head row until signed."""
        return max(0, (self.last_seq or 0) - self.signed_through)

    def as_dict(self) -> dict[str, Any]:
        return {
            "chain": self.name,
            "ok": self.ok,
            "records": self.records,
            "checkpoints": self.checkpoints,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "anchored_at": self.anchored_at,
            "unsigned_tail": self.unsigned_tail,
            "problem": self.problem.as_dict() if self.problem else None,
        }


@dataclass(slots=True)
class VerifyReport:
    chains: list[ChainResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.chains)

    @property
    def records(self) -> int:
        return sum(c.records for c in self.chains)

    @property
    def first_problem(self) -> Problem | None:
        for chain in self.chains:
            if chain.problem is not None:
                return chain.problem
        return None


async def verify_source(
    source: ChainSource,
    trusted: TrustedKeys,
    *,
    chains: list[str] | None = None,
    since: float | None = None,
) -> VerifyReport:
    """Verify every chain of ``source`` (or only ``chains``), from ``since`` (epoch s) if given.

    With ``since``, each chain is verified from its last checkpoint at or before that time (the
    checkpoint's signature vouches for everything before it).
    """
    report = VerifyReport()
    wanted = set(chains) if chains else None
    async for name in source.chain_names():
        if wanted is None or name in wanted:
            report.chains.append(await _ChainCheck(source, trusted, name).run(since))
    for name in sorted((wanted or set()) - {c.name for c in report.chains}):
        result = ChainResult(name)
        result.problems.append(Problem(name, Tamper.DELETED, 0, f"chain {name} has no records"))
        report.chains.append(result)
    return report


class _ChainCheck:
    def __init__(self, source: ChainSource, trusted: TrustedKeys, name: str) -> None:
        self.source = source
        self.trusted = trusted
        self.name = name
        self.result = ChainResult(name)

    def _fail(self, kind: Tamper, seq: int, message: str, request_id: str | None = None) -> None:
        self.result.problems.append(Problem(self.name, kind, seq, message, request_id))

    async def run(self, since: float | None) -> ChainResult:
        checkpoints = await self.source.checkpoints(self.name)
        self.result.checkpoints = len(checkpoints)
        good = self._check_checkpoints(checkpoints)
        by_seq = {cp.seq: cp for cp in good}
        head = await self.source.head(self.name)
        first_seq = await self.source.first_seq(self.name)
        start = first_seq if first_seq is not None else (head.head_seq or 0) + 1
        after, prev = 0, GENESIS
        if start > 1:
            # The chain's beginning is gone: legitimate only after a purge, which keeps the
            # checkpoint just before the first remaining record as the anchor.
            anchor = by_seq.get(start - 1)
            if anchor is None and any(cp.seq == start - 1 for cp in checkpoints):
                return self.result  # the anchor exists but is unsound: that is the problem
            if anchor is None:
                low = max((cp.seq for cp in good if cp.seq < start), default=0) + 1
                span = str(low) if low == start - 1 else f"{low}..{start - 1}"
                self._fail(
                    Tamper.DELETED,
                    low,
                    f"record {span} is missing and no valid checkpoint anchors seq {start}",
                )
                return self.result
            after, prev = anchor.seq, anchor.head_hash
        if checkpoints and _prev_of(checkpoints[0]) is not None and checkpoints[0].seq != after:
            self._fail(
                Tamper.CHECKPOINT_MISSING,
                checkpoints[0].seq,
                f"the checkpoint before checkpoint {checkpoints[0].seq} was removed",
            )
        self.result.anchored_at = after
        if since is not None:
            earlier = [cp for cp in good if cp.ts <= since and cp.seq >= after]
            if earlier:
                after, prev = earlier[-1].seq, earlier[-1].head_hash
        records = self.source.records(self.name, after, None)
        last, last_hash = await self._check_records(records, after, prev, by_seq)
        self._check_end(head, last, last_hash, checkpoints)
        return self.result

    def _check_checkpoints(self, checkpoints: list[CheckpointRow]) -> list[CheckpointRow]:
        """Signatures, bodies and the checkpoint chain; returns the ones that are sound."""
        good: list[CheckpointRow] = []
        previous: CheckpointRow | None = None
        for cp in checkpoints:
            body = cp.parsed()
            claims = None if body is None else (body.get("chain"), body.get("seq"))
            if (
                body is None
                or claims != (cp.chain, cp.seq)
                or body.get("head_hash") != cp.head_hash
            ):
                self._fail(Tamper.BAD_SIGNATURE, cp.seq, f"checkpoint {cp.seq} was edited")
                previous = cp
                continue
            why = self.trusted.verify(str(body.get("key_id")), cp.signature, cp.body.encode())
            if why == "unknown_key":
                self._fail(
                    Tamper.UNKNOWN_KEY,
                    cp.seq,
                    f"checkpoint {cp.seq} is signed by key {body.get('key_id')}, not a trusted one",
                )
            elif why is not None:
                self._fail(Tamper.BAD_SIGNATURE, cp.seq, f"checkpoint {cp.seq}: bad signature")
            elif previous is not None and body.get("prev") != previous.digest:
                self._fail(
                    Tamper.CHECKPOINT_MISSING,
                    cp.seq,
                    f"checkpoint {cp.seq} does not follow checkpoint {previous.seq}: one was"
                    " removed or replaced",
                )
            else:
                good.append(cp)
            previous = cp
        self.result.signed_through = good[-1].seq if good else 0
        return good

    async def _check_records(
        self,
        records: AsyncIterator[RecordRow],
        after: int,
        prev: str,
        checkpoints: dict[int, CheckpointRow],
    ) -> tuple[int, str]:
        """Walk the records in order; returns the last good sequence number and its hash."""
        expected = after + 1
        async for record in records:
            if record.seq > expected:
                # A later record came first: if the missing one follows, they were swapped.
                following = await anext(records, None)
                if following is not None and following.seq == expected:
                    self._fail(
                        Tamper.REORDERED,
                        expected,
                        f"record {record.seq} comes before record {expected}",
                        record.request_id,
                    )
                    break
            problem = self._check_record(record, expected, prev)
            if problem is not None:
                self._fail(*problem, request_id=record.request_id)
                break
            cp = checkpoints.get(record.seq)
            if cp is not None and cp.head_hash != record.hash:
                self._fail(
                    Tamper.CHECKPOINT_MISMATCH,
                    record.seq,
                    f"the chain up to seq {record.seq} differs from what checkpoint {cp.seq}"
                    " signed: records were inserted, removed or rewritten before it",
                    record.request_id,
                )
                break
            if self.result.first_seq is None:
                self.result.first_seq = record.seq
            self.result.records += 1
            self.result.last_seq = record.seq
            prev = record.hash
            expected += 1
        return expected - 1, prev

    def _check_record(
        self, record: RecordRow, expected: int, prev: str
    ) -> tuple[Tamper, int, str] | None:
        seq = record.seq
        if seq > expected:
            span = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
            return Tamper.DELETED, expected, f"record {span} is missing"
        if seq < expected:
            return Tamper.INSERTED, seq, f"a second record claims seq {seq}"
        try:
            body = orjson.loads(record.body)
            own = chain_hash(record.prev_hash, record.body.encode())
        except (orjson.JSONDecodeError, ValueError):
            return Tamper.ALTERED, seq, f"record {seq} is unreadable"
        if own != record.hash or not isinstance(body, dict):
            return Tamper.ALTERED, seq, f"record {seq} was changed: it no longer matches its hash"
        claimed = body.get("seq")
        if body.get("chain") != self.name:
            return Tamper.REORDERED, seq, f"record {seq} belongs to chain {body.get('chain')}"
        if isinstance(claimed, int) and claimed != seq:
            if claimed > seq:
                return Tamper.REORDERED, seq, f"position {seq} holds record {claimed}"
            return (
                Tamper.INSERTED,
                seq,
                f"position {seq} holds record {claimed}: a record was inserted before it",
            )
        if record.prev_hash != prev:
            if prev == GENESIS or seq == 1:
                return Tamper.FORGED, seq, f"record {seq} does not continue the chain"
            return (
                Tamper.FORGED,
                seq - 1,
                f"record {seq - 1} was replaced: record {seq} was chained to a different one",
            )
        for column in PROJECTED:
            if not _same(getattr(record, column), body.get(column)):
                return Tamper.ALTERED, seq, f"column {column} of record {seq} was changed"
        content = body.get("content")
        if self.source.has_content:
            digest = content.get("sha256") if isinstance(content, dict) else None
            stored = sha256_hex(record.content) if record.content is not None else None
            if digest != stored:
                return Tamper.ALTERED, seq, f"the stored content of record {seq} was changed"
        return None

    def _check_end(
        self, head: ChainHead, last: int, last_hash: str, checkpoints: list[CheckpointRow]
    ) -> None:
        if self.result.problems:
            return  # the walk stopped early or a checkpoint is bad: the end proves nothing more
        beyond = [cp for cp in checkpoints if cp.seq > last]
        if beyond:
            self._fail(
                Tamper.TRUNCATED,
                last + 1,
                f"checkpoint {beyond[0].seq} exists but the records end at seq {last}",
            )
        elif head.head_seq is None:
            self._fail(Tamper.HEAD_MISMATCH, last, f"chain {self.name} has no head row")
        elif head.head_seq > last:
            self._fail(
                Tamper.TRUNCATED,
                last + 1,
                f"the chain head is seq {head.head_seq} but the records end at seq {last}",
            )
        elif head.head_seq < last:
            self._fail(
                Tamper.INSERTED,
                head.head_seq + 1,
                f"record {head.head_seq + 1}..{last} lies beyond the chain head",
            )
        elif head.head_hash != last_hash:
            self._fail(
                Tamper.HEAD_MISMATCH, last, "the chain head hash differs from the last record"
            )


def _prev_of(cp: CheckpointRow) -> Any:
    body = cp.parsed()
    return None if body is None else body.get("prev")


def _same(column: Any, claimed: Any) -> bool:
    return bool(column == claimed)
