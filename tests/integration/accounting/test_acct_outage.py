"""A Redis outage in the middle of a run, on a private redis-server that the test stops.

The configured failure mode is applied and logged, nothing crashes, and once Redis is back (even
empty: it has no persistence here) its counters equal the database's and what clients were
charged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from socle.accounting.runtime import AccountingRuntime
from socle.accounting.stage import build_accounting
from socle.store.database import Database
from socle.store.models.accounting import BudgetSpend
from tests.integration.accounting.conftest import PrivateRedis
from tests.unit.accounting.acct_support import Outcome, call, config, context


def runtime(url: str, database: Database, mode: str) -> AccountingRuntime:
    cfg = config(
        backend="redis",
        redis_url=url,
        redis_timeout_ms=200,
        failure_mode=mode,
        flush_interval_seconds=300,  # flush only when the test says so
        budgets=[{"scope": "project", "id": "p1", "period": "day", "limit": 100.0}],
    )
    return build_accounting(cfg, database)


async def burst(rt: AccountingRuntime, n: int) -> list[Outcome]:
    """``n`` concurrent requests, returned once their (background) settlements are done."""
    outcomes = await asyncio.gather(
        *(call(rt.stage, context(), completion_tokens=7) for _ in range(n))
    )
    await rt.stage.drain()
    return list(outcomes)


def charged(outcomes: list[Outcome]) -> int:
    return sum(round((o.cost or 0) * 1e9) for o in outcomes if o.status == "ok")


async def until_back(rt: AccountingRuntime, seconds: float = 15.0) -> list[Outcome]:
    """Requests until one goes through Redis again (after the pause that follows failures)."""
    outcomes = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        outcomes.append(await call(rt.stage, context(), completion_tokens=7))
        await rt.stage.drain()
        if outcomes[-1].status == "ok" and rt.ledger.outage.since is None:
            return outcomes
        await asyncio.sleep(0.1)
    raise AssertionError("Redis never came back")


async def counters(url: str, database: Database) -> tuple[int, int]:
    """(Redis settled spend, database settled spend) of the project's day counter."""
    redis = Redis.from_url(url, decode_responses=True)
    try:
        keys = [k async for k in redis.scan_iter(match="socle:acct:b:project:p1:day:*")]
        assert len(keys) == 1, keys
        in_redis = int(await redis.hget(keys[0], "s") or 0)
    finally:
        await redis.aclose()
    async with database.session() as session:
        in_db = await session.scalar(select(BudgetSpend.spent_nano))
    return in_redis, int(in_db or 0)


@pytest.mark.redis
@pytest.mark.parametrize("mode", ["closed", "open"])
async def test_restart_without_persistence_reconciles_counters(
    private_redis: PrivateRedis, sqlite_db: Database, mode: str, caplog: Any
) -> None:
    caplog.set_level(logging.WARNING)
    rt = runtime(private_redis.url, sqlite_db, mode)
    await rt.start()
    before = await burst(rt, 10)
    assert {o.status for o in before} == {"ok"}

    private_redis.stop()
    during = await burst(rt, 10)
    if mode == "closed":
        assert {o.status for o in during} == {"accounting_unavailable"}
        assert all(o.error is not None and o.error.status == 503 for o in during)
        assert "failing closed" in caplog.text
    else:
        assert {o.status for o in during} == {"ok"}  # admitted unchecked, still charged
        assert "failing open" in caplog.text
    assert await rt.flush()  # the database takes the spend even while Redis is down

    private_redis.start()  # empty: the counters are gone
    after = await until_back(rt) + await burst(rt, 10)
    assert await rt.flush()
    assert "backend back after" in caplog.text
    total = charged(before) + charged(during) + charged(after)
    assert total > 0
    assert await counters(private_redis.url, sqlite_db) == (total, total)
    await rt.stop()


@pytest.mark.redis
async def test_a_paused_redis_keeps_its_data_and_the_missed_spend_is_applied(
    private_redis: PrivateRedis, sqlite_db: Database
) -> None:
    rt = runtime(private_redis.url, sqlite_db, "open")
    await rt.start()
    before = await burst(rt, 5)
    admin = Redis.from_url(private_redis.url)
    await admin.execute_command("CLIENT", "PAUSE", "1500", "ALL")
    during = await burst(rt, 5)
    assert {o.status for o in during} == {"ok"}
    await asyncio.sleep(1.6)
    await admin.aclose()
    after = await until_back(rt)
    assert await rt.flush()
    total = charged(before) + charged(during) + charged(after)
    assert await counters(private_redis.url, sqlite_db) == (total, total)
    await rt.stop()
