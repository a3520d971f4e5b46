"""The accounting capability of one process: its stage plus the background work around it.

``start`` recovers spend (in-process backend) or joins the shared counters (Redis), then runs
the flusher (spend and usage to the database every ``flush_interval_seconds``), the alert sender
and the drift monitor. ``stop`` flushes one last time, so a clean restart loses nothing and,
because every flush is additive and taken out of the buffers only after it commits, counts
nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from socle.accounting.alerts import AlertHub
from socle.accounting.backend import CounterBackend, CounterRef
from socle.accounting.budgets import BudgetPlan
from socle.accounting.carbon import CarbonModel
from socle.accounting.config import AccountingConfig
from socle.accounting.drift import DriftMonitor
from socle.accounting.journal import SpendJournal, UsageBuffer
from socle.accounting.ledger import BudgetLedger
from socle.accounting.memory import MemoryBackend
from socle.accounting.periods import PeriodClock
from socle.accounting.persistence import AccountingStore
from socle.accounting.pricebook import PriceBook
from socle.accounting.ratelimits import RatePlan
from socle.accounting.redis_backend import RedisBackend
from socle.accounting.report import DateRange, GroupBy, budget_status, usage_report
from socle.accounting.stage import AccountingStage
from socle.store.database import Database

log = logging.getLogger(__name__)


class AccountingRuntime:
    """Owns the stage, the counter backend, the buffers and the background tasks."""

    def __init__(
        self,
        config: AccountingConfig,
        database: Database,
        backend: CounterBackend,
    ) -> None:
        self.config = config
        self.database = database
        self.store = AccountingStore(database)
        self.backend = backend
        self.clock = PeriodClock(config.timezone)
        self.journal = SpendJournal()
        self.usage = UsageBuffer()
        self.budgets = BudgetPlan(config.budgets, self.clock)
        self.ledger = BudgetLedger(
            backend, self.budgets, RatePlan(config.rate_limits), self.journal, config.failure_mode
        )
        self.prices = PriceBook(config)
        self.carbon = CarbonModel(config.carbon)
        self.alerts = AlertHub(config.alerts, self.store)
        self.drift = DriftMonitor(
            self.store, self.alerts, config.alerts, config.timezone, config.currency
        )
        self.stage = AccountingStage(
            config, self.ledger, self.prices, self.carbon, self.usage, self.alerts, self.clock
        )
        self._flusher: asyncio.Task[None] | None = None
        self._flush_lock = asyncio.Lock()

    @classmethod
    def build(
        cls, config: AccountingConfig, database: Database, redis_url: str | None = None
    ) -> AccountingRuntime:
        """Choose the backend from the configuration; raises ValueError if Redis has no URL."""
        if config.backend == "memory":
            return cls(config, database, MemoryBackend())
        url = config.redis_url or redis_url
        if not url:
            raise ValueError(
                "accounting.backend is redis but neither accounting.redis_url nor redis_url is set"
            )
        store = AccountingStore(database)

        async def rebuild_source(epoch: str) -> list[tuple[str, int, float | None]]:
            return await store.start_epoch(epoch, time.time())

        backend = RedisBackend.from_url(
            url,
            prefix=config.redis_prefix,
            timeout_ms=config.redis_timeout_ms,
            max_connections=config.redis_max_connections,
            rebuild_source=rebuild_source,
        )
        return cls(config, database, backend)

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Recover spend, then start the flusher, the alert sender and the drift monitor."""
        await self.store.ensure_meta()
        if not self.backend.shared:
            rows = await self.store.current_spend(time.time())
            await self.backend.load(rows)
            if rows:
                log.info("recovered the spend of %d budget counters from the database", len(rows))
        if isinstance(self.backend, RedisBackend):
            await self.backend.start()
        await self.alerts.start()
        if self.config.alerts.drift_enabled:
            await self.drift.start()
        self._flusher = asyncio.create_task(self._flush_loop(), name="socle-acct-flusher")

    async def stop(self) -> None:
        """Stop the background tasks after the pending settlements and a final flush."""
        await self.stage.drain()
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        if not await self.flush():
            log.error("the final accounting flush failed: unflushed spend and usage are lost")
        await self.drift.stop()
        await self.alerts.stop()
        await self.backend.close()

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.flush_interval_seconds)
            # Shielded: cancelling the loop (stop) must not abandon a half-done flush, whose
            # taken buffers would then be lost; stop() waits for it through the lock.
            await asyncio.shield(self.flush())
            if isinstance(self.backend, MemoryBackend):
                self.backend.prune(time.time())

    async def flush(self) -> bool:
        """Write buffered spend and usage in one transaction; False (and kept) on failure."""
        async with self._flush_lock:
            spend = self.journal.take()
            usage = self.usage.take()
            pending = getattr(self.backend, "pending_reconciliation", 0)
            if not spend and not usage and not pending:
                return True
            by_counter: dict[CounterRef, int] = {}
            for (counter, _), amount in spend.items():
                by_counter[counter] = by_counter.get(counter, 0) + amount
            try:
                db_epoch = await self.store.flush(by_counter, usage, time.time())
            except Exception:
                log.exception("accounting flush failed; will retry")
                self.journal.restore(spend)
                self.usage.restore(usage)
                return False
            if self.backend.shared:
                unapplied: dict[CounterRef, int] = {}
                for (counter, epoch), amount in spend.items():
                    if epoch != db_epoch:
                        unapplied[counter] = unapplied.get(counter, 0) + amount
                await self.backend.after_flush(db_epoch, unapplied)
            return True

    # -- reads for the admin API and the CLI -------------------------------------------------

    async def usage_report(
        self, by: GroupBy, period: str | DateRange, **filters: Any
    ) -> list[dict[str, Any]]:
        """:func:`socle.accounting.report.usage_report` after flushing this process's buffers."""
        await self.stage.drain()
        await self.flush()
        return await usage_report(
            self.database, by, period, currency=self.config.currency, **filters
        )

    async def budget_status(self) -> list[dict[str, Any]]:
        """:func:`socle.accounting.report.budget_status` after flushing this process's spend."""
        await self.stage.drain()
        await self.flush()
        return await budget_status(self.database, self.config)
