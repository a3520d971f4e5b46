"""Retention: purge whole segments between checkpoints, keeping the one that anchors the rest.

For each chain, the newest checkpoint signed before the cut-off becomes the anchor: every record
up to it and every older checkpoint is deleted, and the anchor stays, so ``verify`` starts from
its signed head hash and the remaining records still verify. Records after the anchor are kept
even if old, because deleting part of a segment would leave nothing to vouch for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, func, select

from socle.store.database import Database
from socle.store.models.audit import AuditCheckpoint, AuditRecord


@dataclass(slots=True)
class PurgePlan:
    """Per chain, the anchor checkpoint's seq through which records go."""

    before: float
    through: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.records.values())


async def plan_purge(
    database: Database, before: float, chains: list[str] | None = None
) -> PurgePlan:
    """What a purge of everything signed before ``before`` (epoch s) would delete."""
    plan = PurgePlan(before)
    anchors = (
        select(AuditCheckpoint.chain, func.max(AuditCheckpoint.seq))
        .where(AuditCheckpoint.ts < before)
        .group_by(AuditCheckpoint.chain)
    )
    if chains:
        anchors = anchors.where(AuditCheckpoint.chain.in_(chains))
    async with database.engine.connect() as conn:
        for chain, seq in (await conn.execute(anchors)).all():
            count = (
                await conn.execute(
                    select(func.count())
                    .select_from(AuditRecord)
                    .where(AuditRecord.chain == chain, AuditRecord.seq <= seq)
                )
            ).scalar_one()
            plan.through[chain] = int(seq)
            plan.records[chain] = int(count)
    return plan


async def execute_purge(database: Database, plan: PurgePlan) -> None:
    """Delete what ``plan`` names, one segment per transaction, oldest first.

    After each step the chain starts just after a kept checkpoint, so an interrupted purge
    leaves a chain that still verifies, and no transaction holds locks for long.
    """
    for chain, through in plan.through.items():
        async with database.engine.connect() as conn:
            steps = (
                (
                    await conn.execute(
                        select(AuditCheckpoint.seq)
                        .where(AuditCheckpoint.chain == chain, AuditCheckpoint.seq <= through)
                        .order_by(AuditCheckpoint.seq)
                    )
                )
                .scalars()
                .all()
            )
        for seq in steps:
            async with database.engine.begin() as conn:
                await conn.execute(
                    delete(AuditRecord).where(AuditRecord.chain == chain, AuditRecord.seq <= seq)
                )
                await conn.execute(
                    delete(AuditCheckpoint).where(
                        AuditCheckpoint.chain == chain, AuditCheckpoint.seq < seq
                    )
                )
