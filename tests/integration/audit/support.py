"""Helpers shared by the audit tests: tables, an audit log on a database, direct row edits."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import delete, text

from socle.audit.config import AuditConfig
from socle.audit.log import AuditLog, build_audit
from socle.store.base import Base
from socle.store.database import Database
from socle.store.models.audit import AUDIT_TABLES

_ids = itertools.count(1)


async def create_audit_tables(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all, tables=list(AUDIT_TABLES))


async def empty_audit_tables(db: Database) -> None:
    async with db.engine.begin() as conn:
        for table in AUDIT_TABLES:
            await conn.execute(delete(table))


@asynccontextmanager
async def running_audit(db: Database, home: Path, **settings: Any) -> AsyncIterator[AuditLog]:
    """A started audit log (own keys in ``home``), stopped on exit."""
    settings.setdefault("replica_name", "test")
    audit = build_audit(AuditConfig(**settings), db, home)
    await audit.start()
    try:
        yield audit
    finally:
        await audit.stop()


def request(status: int = 200, **fields: Any) -> dict[str, Any]:
    """A plausible request record."""
    n = next(_ids)
    return {
        "kind": "request",
        "request_id": f"req_{n:06d}",
        "project_id": "proj_a",
        "key_id": "key_a",
        "model": "chat-small",
        "status": status,
        "usage": {"prompt_tokens": 12, "completion_tokens": 30},
        "cost": 0.000123 * n,
        **fields,
    }


async def execute(db: Database, sql: str, **params: Any) -> int:
    """Run one statement as an attacker with write access would; returns the row count."""
    async with db.engine.begin() as conn:
        result = await conn.execute(text(sql), params)
    return int(result.rowcount or 0)


async def rows(db: Database, sql: str, **params: Any) -> list[Any]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(text(sql), params)).all())


async def rewrite_chain(
    db: Database,
    chain: str,
    bodies: list[dict[str, Any]],
    *,
    resign_with: Any = None,
) -> None:
    """Replace a chain by ``bodies``, renumbered and correctly re-hashed, as a capable attacker.

    The head row follows the new chain. With ``resign_with`` (a Signer), every checkpoint is
    replaced by one signed with that key over the new chain.
    """
    from socle.audit.canonical import GENESIS, canonical, chain_hash
    from socle.audit.checkpoint import make_checkpoint

    old_checkpoints = await rows(
        db, "SELECT seq, ts FROM audit_checkpoints WHERE chain = :c ORDER BY seq", c=chain
    )
    prev = GENESIS
    hashes: dict[int, str] = {}
    new_rows = []
    for seq, body in enumerate(bodies, start=1):
        body = {**body, "seq": seq}
        raw = canonical(body)
        digest = chain_hash(prev, raw)
        new_rows.append(
            {
                "chain": chain,
                "seq": seq,
                "ts": body["ts"],
                "kind": body["kind"],
                "request_id": body.get("request_id"),
                "project_id": body.get("project_id"),
                "key_id": body.get("key_id"),
                "model": body.get("model"),
                "status": body.get("status"),
                "body": raw.decode(),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        hashes[seq] = digest
        prev = digest
    await execute(db, "DELETE FROM audit_records WHERE chain = :c", c=chain)
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO audit_records (chain, seq, ts, kind, request_id, project_id, key_id,"
                " model, status, body, prev_hash, hash) VALUES (:chain, :seq, :ts, :kind,"
                " :request_id, :project_id, :key_id, :model, :status, :body, :prev_hash, :hash)"
            ),
            new_rows,
        )
        await conn.execute(
            text("UPDATE audit_chains SET head_seq = :s, head_hash = :h WHERE name = :c"),
            {"s": len(bodies), "h": prev, "c": chain},
        )
    if resign_with is not None:
        await execute(db, "DELETE FROM audit_checkpoints WHERE chain = :c", c=chain)
        digest_prev = None
        for seq, ts in old_checkpoints:
            if seq not in hashes:
                continue
            cp = make_checkpoint(resign_with, chain, seq, hashes[seq], ts, digest_prev)
            await execute(
                db,
                "INSERT INTO audit_checkpoints (chain, seq, ts, head_hash, body, signature, key_id)"
                " VALUES (:chain, :seq, :ts, :head_hash, :body, :signature, :key_id)",
                **cp.as_row(),
            )
            digest_prev = cp.digest


async def bodies_of(db: Database, chain: str) -> list[dict[str, Any]]:
    import orjson

    found = await rows(db, "SELECT body FROM audit_records WHERE chain = :c ORDER BY seq", c=chain)
    return [orjson.loads(r.body) for r in found]
