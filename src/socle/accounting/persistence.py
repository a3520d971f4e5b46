"""Database side of accounting: batched, additive writes off the hot path, and recovery reads.

Every flush is one transaction that first updates the ``acct_meta`` row. That row lock (a write
lock on SQLite) serialises flushes with Redis rebuilds, so a flush knows exactly which epoch of the
Redis counters already contains what it writes (see redis_backend.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from socle.accounting.backend import CounterRef
from socle.accounting.journal import UsageKey, UsageTotals
from socle.store.database import Database
from socle.store.models.accounting import (
    USAGE_DIMENSIONS,
    AccountingMeta,
    AlertRecord,
    BudgetSpend,
    UsageDaily,
)

_USAGE_SUMS = tuple(UsageTotals.__slots__)


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _timestamp(value: datetime | None) -> float | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite returns naive UTC
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


class AccountingStore:
    """Reads and writes the accounting tables through one :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def _insert(self, table: Any) -> Any:
        # The dialect's INSERT, which has ON CONFLICT (both SQLite and PostgreSQL support it).
        if self.database.dialect == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    async def ensure_meta(self) -> None:
        """Create the single ``acct_meta`` row if it does not exist (idempotent, race-safe)."""
        stmt = self._insert(AccountingMeta).values(id=1, epoch="", flushes=0)
        async with self.database.session() as session:
            await session.execute(stmt.on_conflict_do_nothing(index_elements=["id"]))

    async def flush(
        self, spend: dict[CounterRef, int], usage: dict[UsageKey, UsageTotals], now: float
    ) -> str:
        """Add spend and usage in one transaction; returns the database's Redis epoch."""
        async with self.database.session() as session:
            result = await session.execute(
                update(AccountingMeta)
                .where(AccountingMeta.id == 1)
                .values(flushes=AccountingMeta.flushes + 1)
                .returning(AccountingMeta.epoch)
            )
            epoch = result.scalar_one_or_none() or ""
            if spend:
                await session.execute(self._spend_upsert(), self._spend_rows(spend, now))
            if usage:
                await session.execute(self._usage_upsert(), self._usage_rows(usage))
        return epoch

    def _spend_upsert(self) -> Any:
        stmt = self._insert(BudgetSpend)
        return stmt.on_conflict_do_update(
            index_elements=["counter"],
            set_={
                "spent_nano": BudgetSpend.spent_nano + stmt.excluded.spent_nano,
                "updated_at": stmt.excluded.updated_at,
            },
        )

    @staticmethod
    def _spend_rows(spend: dict[CounterRef, int], now: float) -> list[dict[str, Any]]:
        stamp = _utc(now)
        return [
            {
                "counter": ref.counter,
                "scope": ref.scope,
                "scope_id": ref.scope_id,
                "period": ref.period,
                "period_key": ref.period_key,
                "spent_nano": amount,
                "period_end": None if ref.period_end is None else _utc(ref.period_end),
                "updated_at": stamp,
            }
            for ref, amount in spend.items()
        ]

    def _usage_upsert(self) -> Any:
        stmt = self._insert(UsageDaily)
        table = UsageDaily.__table__
        return stmt.on_conflict_do_update(
            index_elements=list(USAGE_DIMENSIONS),
            set_={name: table.c[name] + stmt.excluded[name] for name in _USAGE_SUMS},
        )

    @staticmethod
    def _usage_rows(usage: dict[UsageKey, UsageTotals]) -> list[dict[str, Any]]:
        rows = []
        for key, totals in usage.items():
            row: dict[str, Any] = dict(zip(USAGE_DIMENSIONS, key, strict=True))
            for name in _USAGE_SUMS:
                row[name] = getattr(totals, name)
            rows.append(row)
        return rows

    async def current_spend(self, now: float) -> list[tuple[str, int, float | None]]:
        """Settled spend of every counter whose period has not ended."""
        async with self.database.session() as session:
            return await self._current_spend(session, now)

    @staticmethod
    async def _current_spend(session: Any, now: float) -> list[tuple[str, int, float | None]]:
        rows = await session.execute(
            select(BudgetSpend.counter, BudgetSpend.spent_nano, BudgetSpend.period_end).where(
                or_(BudgetSpend.period_end.is_(None), BudgetSpend.period_end > _utc(now))
            )
        )
        return [(c, int(s), _timestamp(e)) for c, s, e in rows]

    async def start_epoch(self, epoch: str, now: float) -> list[tuple[str, int, float | None]]:
        """Record a new Redis epoch and read the spend it must be seeded with, atomically."""
        async with self.database.session() as session:
            await session.execute(
                update(AccountingMeta).where(AccountingMeta.id == 1).values(epoch=epoch)
            )
            return await self._current_spend(session, now)

    # -- alerts ----------------------------------------------------------------------------

    async def claim_alert(self, dedupe_key: str, kind: str, payload: str, now: float) -> bool:
        """Record an alert; False if one with this key exists (another replica sent it)."""
        stmt = (
            self._insert(AlertRecord)
            .values(dedupe_key=dedupe_key, kind=kind, payload=payload, created_at=_utc(now))
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
        async with self.database.session() as session:
            result = await session.execute(stmt)
        return bool(getattr(result, "rowcount", 0))

    async def alert_attempted(
        self, dedupe_key: str, attempts: int, delivered: bool, error: str, now: float
    ) -> None:
        async with self.database.session() as session:
            await session.execute(
                update(AlertRecord)
                .where(AlertRecord.dedupe_key == dedupe_key)
                .values(
                    attempts=attempts,
                    delivered_at=_utc(now) if delivered else None,
                    last_error=error[:500],
                )
            )

    # -- drift -----------------------------------------------------------------------------

    async def daily_by_project(self, since: date) -> dict[str, dict[date, tuple[int, int]]]:
        """(cost in nano, requests) per project and day since ``since``."""
        async with self.database.session() as session:
            rows = await session.execute(
                select(
                    UsageDaily.project_id,
                    UsageDaily.day,
                    func.sum(UsageDaily.cost_nano),
                    func.sum(UsageDaily.requests),
                )
                .where(UsageDaily.day >= since)
                .group_by(UsageDaily.project_id, UsageDaily.day)
            )
            series: dict[str, dict[date, tuple[int, int]]] = defaultdict(dict)
            for project, day, cost, requests in rows:
                series[project][day] = (int(cost or 0), int(requests or 0))
        return dict(series)
