"""The admin listing: filters combine, newest first, pages; content never leaves this way."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from socle.audit.query import AuditQuery
from socle.store.database import Database
from tests.integration.audit.support import request, running_audit


async def test_filters_and_pages(db: Database, tmp_path: Path) -> None:
    async with running_audit(db, tmp_path) as audit:
        await audit.append(request(project_id="p1", model="small", status=200, ts=1000.0))
        await audit.append(request(project_id="p1", model="large", status=429, ts=2000.0))
        await audit.append(request(project_id="p2", model="small", status=200, ts=3000.0))
        await audit.append(
            request(project_id="p1", model="small", status=200, ts=4000.0),
            content={"prompt": "secret"},
            subject="alice",
        )
        await audit.record_admin("alice", "key.revoke", "key:9", {"reason": "leak"})

        def at(seconds: float) -> datetime:
            return datetime.fromtimestamp(seconds, UTC)

        async def seqs(**filters: object) -> list[int]:
            return [r["seq"] for r in await audit.query(AuditQuery.model_validate(filters))]

        assert await seqs(project_id="p1") == [4, 2, 1]
        assert await seqs(project_id="p1", model="small") == [4, 1]
        assert await seqs(status=429) == [2]
        assert await seqs(since=at(2000), until=at(4000)) == [3, 2]
        assert await seqs(kind="admin") == [5]
        assert await seqs(project_id="p1", limit=1, offset=1) == [2]
        (first,) = await audit.query(
            AuditQuery(request_id=(await audit.query(AuditQuery(status=429)))[0]["request_id"])
        )
        assert first["status"] == 429 and first["chain"] == audit.chain and len(first["hash"]) == 64

        (with_content,) = await audit.query(AuditQuery(since=at(4000), kind="request"))
        assert set(with_content["content"]) == {"key_id", "alg", "sha256"}
        assert "secret" not in str(with_content)
