"""Where verify reads chains from: the database, or an export file (offline audit).

Both give, chain by chain, the chain's claimed head, its checkpoints and an iterator over its
records in sequence order, so one verifier serves both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import orjson
from sqlalchemy import func, select, union

from socle.audit.checkpoint import CheckpointRow
from socle.store.database import Database
from socle.store.models.audit import AuditChain, AuditCheckpoint, AuditRecord

EXPORT_FORMAT = "socle-audit-export"
_PAGE = 2000


@dataclass(frozen=True, slots=True)
class ChainHead:
    """What the store claims about a chain's end: ``head_seq`` and the hash of that record.

    ``head_seq`` is None when nothing is claimed (the chain row is missing).
    """

    name: str
    head_seq: int | None
    head_hash: str | None


@dataclass(frozen=True, slots=True)
class RecordRow:
    """A record as stored: the hashed body and the projected columns."""

    chain: str
    seq: int
    ts: float
    kind: str
    request_id: str | None
    project_id: str | None
    key_id: str | None
    model: str | None
    status: int | None
    body: str
    prev_hash: str
    hash: str
    content: bytes | None = None

    @classmethod
    def from_mapping(cls, row: Any) -> RecordRow:
        return cls(**{name: row[name] for name in RECORD_FIELDS})


RECORD_FIELDS = tuple(RecordRow.__dataclass_fields__)
PROJECTED = ("ts", "kind", "request_id", "project_id", "key_id", "model", "status")


class ChainSource(Protocol):
    """Chains to verify."""

    has_content: bool

    def chain_names(self) -> AsyncIterator[str]: ...

    async def head(self, name: str) -> ChainHead: ...

    async def checkpoints(self, name: str) -> list[CheckpointRow]: ...

    async def first_seq(self, name: str) -> int | None: ...

    def records(
        self, name: str, after_seq: int, through_seq: int | None
    ) -> AsyncIterator[RecordRow]: ...


def checkpoint_from_row(row: Any) -> CheckpointRow:
    return CheckpointRow(
        row.chain, row.seq, row.ts, row.head_hash, row.body, row.signature, row.key_id
    )


class DatabaseSource:
    """Chains as stored in the audit tables (read in pages, so memory stays flat)."""

    has_content = True

    def __init__(self, database: Database) -> None:
        self._db = database

    async def chain_names(self) -> AsyncIterator[str]:
        # Every name that appears anywhere: a chain whose head row was deleted is still checked.
        stmt = union(
            select(AuditChain.name.label("name")),
            select(AuditRecord.chain.label("name")).distinct(),
            select(AuditCheckpoint.chain.label("name")).distinct(),
        )
        async with self._db.engine.connect() as conn:
            names = sorted((await conn.execute(stmt)).scalars().all())
        for name in names:
            yield name

    async def head(self, name: str) -> ChainHead:
        async with self._db.engine.connect() as conn:
            row = (await conn.execute(select(AuditChain).where(AuditChain.name == name))).first()
        if row is None:
            return ChainHead(name, None, None)
        return ChainHead(name, row.head_seq, row.head_hash)

    async def checkpoints(self, name: str) -> list[CheckpointRow]:
        stmt = select(AuditCheckpoint).where(AuditCheckpoint.chain == name)
        async with self._db.engine.connect() as conn:
            rows = (await conn.execute(stmt.order_by(AuditCheckpoint.seq))).all()
        return [checkpoint_from_row(r) for r in rows]

    async def first_seq(self, name: str) -> int | None:
        stmt = select(func.min(AuditRecord.seq)).where(AuditRecord.chain == name)
        async with self._db.engine.connect() as conn:
            value = (await conn.execute(stmt)).scalar()
        return None if value is None else int(value)

    async def records(
        self, name: str, after_seq: int, through_seq: int | None = None
    ) -> AsyncIterator[RecordRow]:
        columns = [getattr(AuditRecord, f) for f in RECORD_FIELDS]
        last = after_seq
        while True:
            stmt = select(*columns).where(AuditRecord.chain == name, AuditRecord.seq > last)
            if through_seq is not None:
                stmt = stmt.where(AuditRecord.seq <= through_seq)
            async with self._db.engine.connect() as conn:
                rows = (await conn.execute(stmt.order_by(AuditRecord.seq).limit(_PAGE))).all()
            for row in rows:
                yield RecordRow.from_mapping(row._mapping)
            if len(rows) < _PAGE:
                return
            last = rows[-1].seq


@dataclass(slots=True)
class _ExportChain:
    head: ChainHead
    checkpoints: list[CheckpointRow]
    offset: int = -1  # where the chain's first record line starts


class ExportFileSource:
    """Chains from a JSONL export file (see :mod:`socle.audit.export` for the format).

    The file is read twice: once to index chains and checkpoints, then once per chain to stream
    its records from their offset, so a large export is verified in flat memory.
    """

    has_content = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: dict[str, Any] = {}
        self._chains: dict[str, _ExportChain] = {}
        self._index()

    def _index(self) -> None:
        current: _ExportChain | None = None
        with self.path.open("rb") as handle:
            for number, offset, item in _numbered_lines(handle):
                kind = item.get("type")
                if number == 1:
                    if kind != "header" or item.get("format") != EXPORT_FORMAT:
                        raise ValueError(f"line 1 is not a {EXPORT_FORMAT} header")
                    self.header = item
                    continue
                try:
                    if kind == "chain":
                        head = ChainHead(item["name"], item["through_seq"], item["through_hash"])
                        if head.name in self._chains:
                            raise ValueError(f"chain {head.name} appears twice")
                        current = self._chains[head.name] = _ExportChain(head, [])
                    elif kind == "checkpoint" and current is not None:
                        fields = CheckpointRow.__dataclass_fields__
                        current.checkpoints.append(CheckpointRow(**{k: item[k] for k in fields}))
                    elif kind == "record" and current is not None:
                        if current.offset < 0:
                            current.offset = offset
                    else:
                        raise ValueError(f"unexpected line type {kind!r}")
                except (KeyError, TypeError) as exc:
                    raise ValueError(f"line {number}: missing or bad field {exc}") from None
                except ValueError as exc:
                    raise ValueError(f"line {number}: {exc}") from None
        if not self.header:
            raise ValueError("the export is empty")

    async def chain_names(self) -> AsyncIterator[str]:
        for name in sorted(self._chains):
            yield name

    async def head(self, name: str) -> ChainHead:
        chain = self._chains.get(name)
        return chain.head if chain else ChainHead(name, None, None)

    async def checkpoints(self, name: str) -> list[CheckpointRow]:
        chain = self._chains.get(name)
        return sorted(chain.checkpoints, key=lambda c: c.seq) if chain else []

    async def first_seq(self, name: str) -> int | None:
        async for record in self.records(name, 0):
            return record.seq
        return None

    async def records(
        self, name: str, after_seq: int, through_seq: int | None = None
    ) -> AsyncIterator[RecordRow]:
        chain = self._chains.get(name)
        if chain is None or chain.offset < 0:
            return
        fields = [k for k in RECORD_FIELDS if k != "content"]
        with self.path.open("rb") as handle:
            handle.seek(chain.offset)
            # File order is kept (not sorted) so that a reordered export is seen as reordered.
            for line in handle:
                item = orjson.loads(line)
                if item.get("type") != "record":
                    return
                record = RecordRow(**{k: item[k] for k in fields})
                if record.seq > after_seq and (through_seq is None or record.seq <= through_seq):
                    yield record


def _numbered_lines(handle: IO[bytes]) -> Iterator[tuple[int, int, dict[str, Any]]]:
    offset = 0
    for number, line in enumerate(handle, start=1):
        start, offset = offset, offset + len(line)
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"line {number}: not JSON ({exc})") from None
        if not isinstance(item, dict):
            raise ValueError(f"line {number}: not a JSON object")
        yield number, start, item
