"""Reading records back for the admin API (``/admin/v1/audit``, auditor role): filters and pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from socle.store.database import Database
from socle.store.models.audit import AuditRecord


class AuditQuery(BaseModel):
    """Filters of the audit listing; every one is optional and they combine with AND."""

    model_config = ConfigDict(extra="forbid")

    since: datetime | None = Field(None, description="Records at or after this time.")
    until: datetime | None = Field(None, description="Records before this time.")
    project_id: str | None = None
    key_id: str | None = None
    model: str | None = None
    status: int | None = Field(None, ge=100, le=599)
    request_id: str | None = None
    kind: str | None = Field(None, description="request, stream_start, stream_end or admin.")
    chain: str | None = None
    limit: int = Field(100, ge=1, le=1000)
    offset: int = Field(0, ge=0)


async def query_records(database: Database, query: AuditQuery) -> list[dict[str, Any]]:
    """Matching records, newest first, as dicts: the signed body plus chain, seq and hash.

    Encrypted content is never returned here; its presence shows as ``content.key_id``.
    """
    stmt = select(AuditRecord.chain, AuditRecord.seq, AuditRecord.hash, AuditRecord.body)
    if query.since is not None:
        stmt = stmt.where(AuditRecord.ts >= query.since.timestamp())
    if query.until is not None:
        stmt = stmt.where(AuditRecord.ts < query.until.timestamp())
    for column, value in (
        (AuditRecord.project_id, query.project_id),
        (AuditRecord.key_id, query.key_id),
        (AuditRecord.model, query.model),
        (AuditRecord.status, query.status),
        (AuditRecord.request_id, query.request_id),
        (AuditRecord.kind, query.kind),
        (AuditRecord.chain, query.chain),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = (
        stmt.order_by(AuditRecord.ts.desc(), AuditRecord.id.desc())
        .limit(query.limit)
        .offset(query.offset)
    )
    async with database.engine.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    out = []
    for chain, seq, digest, body in rows:
        item: dict[str, Any] = orjson.loads(body)
        item.update(chain=chain, seq=seq, hash=digest)
        out.append(item)
    return out
