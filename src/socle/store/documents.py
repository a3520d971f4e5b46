"""Read and write runtime documents (configuration edited at run time, shared by replicas)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from socle.store.database import Database
from socle.store.models.documents import RuntimeDocument


class DocumentStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def revision(self, name: str) -> int:
        """The document's revision, 0 when it was never written."""
        async with self.database.session() as session:
            value = await session.scalar(
                select(RuntimeDocument.revision).where(RuntimeDocument.name == name)
            )
        return int(value or 0)

    async def get(self, name: str) -> tuple[int, dict[str, Any]] | None:
        async with self.database.session() as session:
            row = await session.get(RuntimeDocument, name)
            return None if row is None else (row.revision, dict(row.data))

    async def put(self, name: str, data: dict[str, Any], actor: str) -> int:
        """Replace the document; returns its new revision."""
        async with self.database.session() as session:
            row = await session.get(RuntimeDocument, name, with_for_update=True)
            now = datetime.now(UTC)
            if row is None:
                row = RuntimeDocument(
                    name=name, data=data, revision=1, updated_at=now, updated_by=actor
                )
                session.add(row)
            else:
                row.data = data
                row.revision += 1
                row.updated_at = now
                row.updated_by = actor
            return row.revision
