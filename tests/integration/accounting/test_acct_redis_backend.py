"""The Redis backend on the shared Redis (own key prefix): parity, rebuilds, crashed replicas."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from socle.accounting.backend import CounterRef
from socle.accounting.budgets import BudgetPlan
from socle.accounting.config import BudgetRule, RateLimits
from socle.accounting.memory import MemoryBackend
from socle.accounting.periods import PeriodClock
from socle.accounting.persistence import AccountingStore
from socle.accounting.prices import to_nano
from socle.accounting.ratelimits import RatePlan
from socle.accounting.redis_backend import RedisBackend
from socle.accounting.runtime import AccountingRuntime
from socle.store.database import Database
from socle.store.models.accounting import BudgetSpend
from tests.unit.accounting.acct_support import call, config, context, principal

pytestmark = pytest.mark.redis


def backend(url: str, prefix: str, database: Database) -> RedisBackend:
    store = AccountingStore(database)

    async def source(epoch: str) -> list[tuple[str, int, float | None]]:
        return await store.start_epoch(epoch, time.time())

    return RedisBackend.from_url(
        url, prefix=prefix, timeout_ms=1000, max_connections=16, rebuild_source=source
    )


def counters(*limits: float | None) -> list[CounterRef]:
    return [
        CounterRef(
            f"project:p{i}:total:total",
            "project",
            f"p{i}",
            "total",
            "total",
            None,
            None if limit is None else to_nano(limit),
        )
        for i, limit in enumerate(limits)
    ]


async def test_same_decisions_and_counters_as_the_memory_backend(
    redis_url: str, redis_prefix: str, sqlite_db: Database
) -> None:
    await AccountingStore(sqlite_db).ensure_meta()
    shared = backend(redis_url, redis_prefix, sqlite_db)
    local = MemoryBackend()
    refs = counters(0.5, 0.2, None)
    rng = random.Random(7)
    held: list[tuple[list[CounterRef], str, str, int]] = []
    try:
        for _ in range(300):
            if held and rng.random() < 0.45:
                chosen, epoch_r, epoch_m, amount = held.pop(rng.randrange(len(held)))
                actual = rng.randint(0, amount)
                r = await shared.settle(chosen, epoch_r, amount, actual, [])
                m = await local.settle(chosen, epoch_m, amount, actual, [])
                assert r.spent == m.spent
                continue
            chosen = rng.sample(refs, rng.randint(1, 3))
            amount = rng.randint(0, to_nano(0.05))
            r_adm = await shared.admit(chosen, amount, [])
            m_adm = await local.admit(chosen, amount, [])
            assert r_adm.ok == m_adm.ok
            if not r_adm.ok:
                assert r_adm.denied_budget == m_adm.denied_budget
                assert (r_adm.spent, r_adm.reserved) == (m_adm.spent, m_adm.reserved)
            else:
                held.append((chosen, r_adm.epoch, m_adm.epoch, amount))
    finally:
        await shared.close()


async def test_gcra_in_lua_matches_the_python_arithmetic(
    redis_url: str, redis_prefix: str, sqlite_db: Database
) -> None:
    await AccountingStore(sqlite_db).ensure_meta()
    shared = backend(redis_url, redis_prefix, sqlite_db)
    plan = RatePlan(
        RateLimits.model_validate({"key": {"rpm": 600, "tpm": 10_000, "burst_requests": 3}})
    )
    try:
        refs = plan.refs(principal(), 4000)
        results = [await shared.admit([], 0, refs) for _ in range(4)]
        assert [a.ok for a in results] == [True, True, False, False]  # 8000 tokens max
        tokens_state = next(s for s in results[1].rates if s.ref.kind == "tokens")
        assert tokens_state.remaining == 2000
        refused = results[2]
        assert refused.denied_rate is not None and refused.denied_rate.kind == "tokens"
        assert refused.retry_after == pytest.approx(12.0, abs=0.2)  # 2000 tokens at 10000/min
        # Giving back unused tokens makes room at once.
        await shared.settle([], results[0].epoch, 0, 0, [(refs[1], 3000)])
        assert (await shared.admit([], 0, refs)).ok
        # The request limit: a burst of 3, then one every 100 ms.
        small = plan.refs(principal(key_id="k9"), 1)
        outcomes = [(await shared.admit([], 0, small)).ok for _ in range(4)]
        assert outcomes == [True, True, True, False]
    finally:
        await shared.close()


async def test_lost_counters_are_rebuilt_from_the_database_and_unflushed_spend_reapplied(
    redis_url: str, redis_prefix: str, sqlite_db: Database
) -> None:
    cfg = config(
        backend="redis",
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        flush_interval_seconds=300,
        budgets=[{"scope": "key", "id": "k1", "period": "total", "limit": 10.0}],
    )
    rt = AccountingRuntime.build(cfg, sqlite_db)
    await rt.start()
    redis = Redis.from_url(redis_url, decode_responses=True)
    key = redis_prefix + "b:key:k1:total:total"
    try:
        flushed = [await call(rt.stage, context(), completion_tokens=10) for _ in range(3)]
        await rt.stage.drain()
        assert await rt.flush()
        unflushed = [await call(rt.stage, context(), completion_tokens=20) for _ in range(2)]
        # Redis loses everything (FLUSHDB of our keys): the next request rebuilds.
        await redis.delete(*[k async for k in redis.scan_iter(match=redis_prefix + "*")])
        await rt.stage.drain()
        after = [await call(rt.stage, context(), completion_tokens=30)]
        await rt.stage.drain()
        cost = lambda outs: sum(round(o.cost * 1e9) for o in outs)  # noqa: E731
        # The rebuild only knew the flushed spend, plus what was settled after it.
        assert int(await redis.hget(key, "s")) == cost(flushed) + cost(after)
        assert await rt.flush()  # the unflushed spend is re-applied to the new epoch
        assert int(await redis.hget(key, "s")) == cost(flushed) + cost(unflushed) + cost(after)
        async with sqlite_db.session() as session:
            stored = await session.scalar(
                select(BudgetSpend.spent_nano).where(BudgetSpend.counter == "key:k1:total:total")
            )
        assert stored == cost(flushed) + cost(unflushed) + cost(after)
    finally:
        await redis.aclose()
        await rt.stop()


async def test_a_crashed_replicas_reservations_stop_counting(
    redis_url: str, redis_prefix: str, sqlite_db: Database
) -> None:
    await AccountingStore(sqlite_db).ensure_meta()
    alive, crashed = (
        backend(redis_url, redis_prefix, sqlite_db),
        backend(redis_url, redis_prefix, sqlite_db),
    )
    await alive.start()
    await crashed.start()
    refs = counters(1.0)
    try:
        assert (await crashed.admit(refs, to_nano(0.9), [])).ok
        assert not (await alive.admit(refs, to_nano(0.2), [])).ok
        # The crashed replica never settles and its heartbeat expires.
        redis = Redis.from_url(redis_url)
        await redis.delete(redis_prefix + "alive:" + crashed.replica)
        await redis.aclose()
        assert (await alive.admit(refs, to_nano(0.2), [])).ok
    finally:
        await alive.close()
        await crashed.close()


async def test_concurrent_reservations_from_one_process_are_exact(
    redis_url: str, redis_prefix: str, sqlite_db: Database
) -> None:
    await AccountingStore(sqlite_db).ensure_meta()
    shared = backend(redis_url, redis_prefix, sqlite_db)
    refs = counters(0.1)
    try:
        results = await asyncio.gather(
            *(shared.admit(refs, to_nano(0.003), []) for _ in range(100))
        )
        assert sum(a.ok for a in results) == 33
    finally:
        await shared.close()


def test_plan_counters_are_named_by_scope_period_and_key() -> None:
    plan = BudgetPlan([BudgetRule(scope="team", limit=1, period="day")], PeriodClock("UTC"))
    [ref] = plan.counters(principal(), 0.0)
    assert ref.counter == "team:t1:day:1970-01-01" and ref.hard_limit == to_nano(1)
