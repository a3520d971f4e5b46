"""The audit trail's runtime object: what the gateway, the admin API and the CLI call."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import orjson
from sqlalchemy import select

from socle.audit.config import AuditConfig
from socle.audit.content import ContentVault, subject_hash
from socle.audit.errors import AuditUnavailable, ContentErased
from socle.audit.export import ExportSummary, export_jsonl
from socle.audit.keys import (
    Signer,
    TrustedKeys,
    load_content_kek,
    load_signer,
    load_trusted_keys,
    public_pem,
)
from socle.audit.query import AuditQuery, query_records
from socle.audit.records import admin_record
from socle.audit.retention import PurgePlan, execute_purge, plan_purge
from socle.audit.sources import DatabaseSource
from socle.audit.verify import VerifyReport, verify_source
from socle.audit.writer import ChainWriter, Pending
from socle.pipeline.stage import Stage
from socle.store.database import Database
from socle.store.models.audit import AuditRecord

if TYPE_CHECKING:
    from socle.audit.stage import AuditStage

log = logging.getLogger(__name__)


class AuditLog:
    """Append records durably (group commit), and read, verify, export, purge and erase them.

    Build it with :func:`build_audit`, then ``await start()`` before serving and ``await stop()``
    after the last request (it commits what is queued and signs a final checkpoint).
    """

    def __init__(
        self,
        config: AuditConfig,
        database: Database,
        signer: Signer | None,
        trusted: TrustedKeys,
        vault: ContentVault | None,
        *,
        chain_base: str | None = None,
    ) -> None:
        self.config = config
        self.database = database
        self.signer = signer
        self.trusted = trusted
        self.vault = vault
        self.writer: ChainWriter | None = None
        self._stage: AuditStage | None = None
        if config.mode != "off" and signer is not None:
            self.writer = ChainWriter(database, config, signer, vault, chain_base=chain_base)

    @property
    def mode(self) -> str:
        return self.config.mode

    @property
    def stage(self) -> AuditStage:
        """The pipeline stage writing this log's request records (put it last)."""
        if self._stage is None:
            from socle.audit.stage import AuditStage

            self._stage = AuditStage(self)
        return self._stage

    @property
    def refusal_stage(self) -> Stage:
        """The companion stage to put first: records requests refused before ``stage``."""
        return self.stage.refusals()

    @property
    def enabled(self) -> bool:
        """Whether records are written (``mode`` is not ``off``)."""
        return self.writer is not None

    @property
    def chain(self) -> str | None:
        """The name of this process's chain (after ``start``)."""
        return self.writer.chain if self.writer else None

    async def start(self) -> None:
        if self.writer is not None:
            await self.writer.start()
        else:
            log.warning("audit mode is off: nothing is recorded (never use this in production)")

    async def stop(self) -> None:
        if self.writer is not None:
            await self.writer.stop()

    async def append(
        self,
        record: dict[str, Any],
        *,
        content: dict[str, Any] | None = None,
        subject: str | None = None,
        wait: bool | None = None,
    ) -> None:
        """Add a record to this process's chain.

        ``record`` needs a ``kind``; ``ts`` defaults to now. ``content`` (prompt and answer) is
        encrypted with ``subject``'s key and stored beside the record. In sync mode (or with
        ``wait=True``) this returns once the record is committed and raises
        :class:`AuditUnavailable` if it cannot be; in async mode it returns at once, unless the
        queue is over ``max_pending``, when it waits (backpressure).
        """
        writer = self.writer
        if writer is None:
            return
        if "ts" not in record:
            record = {**record, "ts": time.time()}
        item = Pending(record)
        if content is not None and subject and self.vault is not None:
            item.content = orjson.dumps(content)
            item.subject_hash = subject_hash(subject)
        if wait is None:
            wait = self.config.mode == "sync" or writer.pending >= self.config.max_pending
        if not wait:
            writer.submit(item)
            return
        item.future = asyncio.get_running_loop().create_future()
        writer.submit(item)
        await item.future

    async def record_admin(
        self, actor: str, action: str, target: str, details: dict[str, Any] | None = None
    ) -> None:
        """Record an administrative action (who changed what); always waits for the commit."""
        await self.append(admin_record(actor, action, target, details or {}), wait=True)

    async def erase_subject(self, subject: str, actor: str) -> int:
        """GDPR erasure: destroy the subject's content keys (crypto-shredding), audited.

        The records and their ciphertext stay, so the chain still verifies; the content can no
        longer be decrypted. Returns how many keys were destroyed.
        """
        if self.vault is None:
            raise AuditUnavailable("content encryption is not configured")
        destroyed = await self.vault.erase(subject)
        await self.record_admin(
            actor,
            "audit.erase_subject",
            f"subject:{subject_hash(subject)}",
            {"keys_destroyed": destroyed},
        )
        return destroyed

    async def plan_purge(self, before: float | None = None) -> PurgePlan:
        """What :meth:`purge` would delete (records signed before the retention cut-off)."""
        return await plan_purge(self.database, self._cutoff(before))

    async def purge(self, actor: str = "system", before: float | None = None) -> PurgePlan:
        """Delete whole segments older than the retention period; the purge itself is audited."""
        plan = await plan_purge(self.database, self._cutoff(before))
        if plan.through:
            await execute_purge(self.database, plan)
        await self.record_admin(
            actor,
            "audit.purge",
            "audit_records",
            {"before": plan.before, "through": plan.through, "records": plan.total},
        )
        return plan

    def _cutoff(self, before: float | None) -> float:
        if before is not None:
            return before
        if self.config.retention_days is None:
            raise ValueError("audit.retention_days is not set")
        return time.time() - self.config.retention_days * 86400.0

    async def query(self, query: AuditQuery) -> list[dict[str, Any]]:
        """Records matching the filters, newest first (for ``/admin/v1/audit``)."""
        return await query_records(self.database, query)

    async def read_content(self, chain: str, seq: int) -> dict[str, Any] | None:
        """Decrypt a record's stored content; None if it has none.

        Raises :class:`ContentErased` once the subject's key was destroyed.
        """
        stmt = select(AuditRecord.body, AuditRecord.content, AuditRecord.request_id).where(
            AuditRecord.chain == chain, AuditRecord.seq == seq
        )
        async with self.database.engine.connect() as conn:
            row = (await conn.execute(stmt)).first()
        if row is None or row.content is None:
            return None
        if self.vault is None:
            raise ContentErased("content encryption is not configured")
        meta = orjson.loads(row.body).get("content") or {}
        plain = await self.vault.decrypt(str(meta.get("key_id")), row.request_id, row.content)
        value: dict[str, Any] = orjson.loads(plain)
        return value

    async def verify(
        self, chains: list[str] | None = None, since: float | None = None
    ) -> VerifyReport:
        """Verify the chains stored in the database against the trusted keys."""
        return await verify_source(
            DatabaseSource(self.database), self.trusted, chains=chains, since=since
        )

    async def export(
        self,
        out: IO[bytes],
        since: float | None = None,
        until: float | None = None,
        chains: list[str] | None = None,
    ) -> ExportSummary:
        """Write a JSONL export (see :mod:`socle.audit.export`)."""
        return await export_jsonl(
            DatabaseSource(self.database),
            out,
            self.trusted,
            since=since,
            until=until,
            chains=chains,
        )

    def public_key_pem(self) -> str | None:
        return public_pem(self.signer.public_key) if self.signer else None


def build_audit(
    config: AuditConfig,
    database: Database,
    data_dir: Path | None,
    *,
    chain_base: str | None = None,
) -> AuditLog:
    """Load (or generate, in ``data_dir``) the keys and build the audit log; ``start`` it next.

    Reads small key files once, at start-up. ``chain_base`` replaces the host name as the default
    chain name (the CLI uses ``cli-<host>`` so that it never takes a server's chain).
    """
    if config.mode == "off":
        return AuditLog(config, database, None, TrustedKeys([]), None)
    signer = load_signer(config, data_dir)
    kek = load_content_kek(config, data_dir)
    trusted = load_trusted_keys(config, signer)
    vault = ContentVault(database, kek, cache_s=config.key_cache_s)
    return AuditLog(config, database, signer, trusted, vault, chain_base=chain_base)
