"""Two OS processes share Redis and hammer the same budget or rate limit at once.

Each process runs the accounting stage with the Redis backend and fires its requests all at once
(200 in total). A hard budget that allows exactly K requests at their maximum cost must never be
overrun, and a rate limit of R requests per minute must admit at most what GCRA allows.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from socle.accounting.periods import PeriodClock
from socle.accounting.tokens import estimate_prompt
from socle.store.database import Database
from socle.store.models.accounting import BudgetSpend
from tests.unit.accounting.acct_support import context, create_tables, sqlite_url

HAMMER = Path(__file__).with_name("acct_hammer.py")
PER_PROCESS = 100


async def run_two(config: dict[str, Any], database: Database, mode: str) -> list[dict[str, Any]]:
    """Start two hammer processes, release them together, return their summaries."""
    go_key = config["redis_prefix"] + "go"
    args = [json.dumps(config), database.url, str(PER_PROCESS), go_key, mode]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(HAMMER),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    redis = Redis.from_url(config["redis_url"])
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if line.strip() != b"ready":
                _, err = await proc.communicate()
                raise AssertionError(f"hammer did not start: {line!r} {err.decode()[-2000:]}")
        await redis.rpush(go_key, *["go"] * len(procs))
        outputs = [await asyncio.wait_for(p.communicate(), 120) for p in procs]
    finally:
        await redis.aclose()
    summaries = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-3000:]
        summary = json.loads(out.decode().strip().splitlines()[-1])
        summary["log"] = err.decode()[-1500:]
        summaries.append(summary)
    return summaries


def max_cost_nano() -> int:
    """The reservation of one hammer request: prompt at 1000 + 100 output tokens at 2000 nano."""
    ctx = context(max_tokens=100)
    return estimate_prompt("chat.completions", ctx.body) * 1000 + 100 * 2000


@pytest.mark.redis
@pytest.mark.parametrize(("kind", "mode"), [("sqlite", "full"), ("postgres", "random")])
async def test_hard_budget_is_never_overrun_by_two_processes(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    redis_url: str,
    redis_prefix: str,
    kind: str,
    mode: str,
) -> None:
    k = 37
    amount = max_cost_nano()
    limit_nano = k * amount + amount // 2  # room for K requests and half of another
    config = {
        "backend": "redis",
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "flush_interval_seconds": 0.2,
        "alerts": {"drift_enabled": False},
        "reservation": {"prompt_margin": 1.0},
        "budgets": [{"scope": "project", "id": "p1", "period": "day", "limit": limit_nano / 1e9}],
    }
    url = sqlite_url(tmp_path) if kind == "sqlite" else request.getfixturevalue("pg_url")
    acct_db = Database(url)
    await create_tables(acct_db)
    try:
        await check_budget_run(config, acct_db, mode, k, limit_nano, redis_url, redis_prefix)
    finally:
        await acct_db.dispose()


async def check_budget_run(
    config: dict[str, Any],
    acct_db: Database,
    mode: str,
    k: int,
    limit_nano: int,
    redis_url: str,
    redis_prefix: str,
) -> None:
    summaries = await run_two(config, acct_db, mode)
    ok = sum(s["statuses"].get("ok", 0) for s in summaries)
    refused = sum(s["statuses"].get("budget_exceeded", 0) for s in summaries)
    settled = sum(s["settled_nano"] for s in summaries)
    assert ok + refused == 2 * PER_PROCESS, summaries
    assert settled <= limit_nano
    assert ok >= k - 1
    if mode == "full":
        assert ok == k  # every request costs its maximum: exactly K fit
    # Redis and the database agree with what the clients were charged.
    key = PeriodClock("UTC").window("day", time.time()).key
    counter = f"project:p1:day:{key}"
    redis = Redis.from_url(redis_url, decode_responses=True)
    try:
        fields = await redis.hgetall(redis_prefix + "b:" + counter)
    finally:
        await redis.aclose()
    assert int(fields["s"]) == settled
    assert not [f for f in fields if f.startswith("r:")], fields  # every reservation released
    async with acct_db.session() as session:
        stored = await session.scalar(
            select(BudgetSpend.spent_nano).where(BudgetSpend.counter == counter)
        )
    assert stored == settled


@pytest.mark.redis
async def test_rate_limit_admits_no_more_than_gcra_allows_across_processes(
    sqlite_db: Database, redis_url: str, redis_prefix: str
) -> None:
    rpm = 23
    config = {
        "backend": "redis",
        "redis_url": redis_url,
        "redis_prefix": redis_prefix,
        "alerts": {"drift_enabled": False},
        "rate_limits": {"key": {"rpm": rpm}},
    }
    summaries = await run_two(config, sqlite_db, "random")
    ok = sum(s["statuses"].get("ok", 0) for s in summaries)
    limited = sum(s["statuses"].get("rate_limit_exceeded", 0) for s in summaries)
    assert ok + limited == 2 * PER_PROCESS
    interval = 60.0 / rpm
    window = max(s["elapsed"] for s in summaries)
    assert rpm <= ok <= rpm + math.floor(window / interval), (ok, window)
