"""Spend and usage in the database (SQLite and PostgreSQL): restarts, reports, budget status."""

from __future__ import annotations

import time
from datetime import date

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select

from socle.accounting.report import budget_status, parse_period, usage_report
from socle.accounting.runtime import AccountingRuntime
from socle.store.database import Database
from socle.store.models.accounting import BudgetSpend, UsageDaily
from tests.unit.accounting.acct_support import Outcome, call, config, context, principal


def charged(outcomes: list[Outcome]) -> int:
    return sum(round((o.cost or 0) * 1e9) for o in outcomes if o.status == "ok")


async def stored_spend(database: Database) -> int:
    async with database.session() as session:
        return int(await session.scalar(select(func.sum(BudgetSpend.spent_nano))) or 0)


async def test_spend_survives_a_restart_and_is_not_counted_twice(acct_db: Database) -> None:
    cfg = config(budgets=[{"scope": "project", "id": "p1", "period": "month", "limit": 0.002}])
    first = AccountingRuntime.build(cfg, acct_db)
    await first.start()
    before = [await call(first.stage, context(), completion_tokens=100) for _ in range(4)]
    await first.stop()
    assert await stored_spend(acct_db) == charged(before)

    second = AccountingRuntime.build(cfg, acct_db)
    await second.start()
    counter = next(iter(second.budgets.counters(principal(), time.time()))).counter
    assert second.backend.spent[counter] == charged(before)  # type: ignore[attr-defined]
    after = [await call(second.stage, context(), completion_tokens=100) for _ in range(10)]
    await second.stop()
    total = charged(before) + charged(after)
    assert await stored_spend(acct_db) == total
    # The budget held across the restart: 0.002 EUR allows 8 requests of 0.000225.
    assert sum(o.status == "ok" for o in before + after) == 8
    assert total <= 2_000_000

    third = AccountingRuntime.build(cfg, acct_db)
    await third.start()
    await third.stop()  # an idle restart writes nothing
    assert await stored_spend(acct_db) == total


@pytest.mark.redis
async def test_redis_backend_restart_keeps_redis_and_database_equal(
    acct_db: Database, redis_url: str, redis_prefix: str
) -> None:
    cfg = config(
        backend="redis",
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        budgets=[{"scope": "org", "id": "o1", "period": "total", "limit": 5.0}],
    )
    total = 0
    for _ in range(2):  # the same process restarted twice
        rt = AccountingRuntime.build(cfg, acct_db)
        await rt.start()
        total += charged([await call(rt.stage, context(), completion_tokens=50) for _ in range(5)])
        await rt.stop()
    assert await stored_spend(acct_db) == total
    redis = Redis.from_url(redis_url)
    try:
        assert int(await redis.hget(redis_prefix + "b:org:o1:total:total", "s")) == total
    finally:
        await redis.aclose()


async def test_usage_report_groups_filters_and_averages_temperature(acct_db: Database) -> None:
    rt = AccountingRuntime.build(config(), acct_db)
    await rt.start()
    warm = {"defaults": {"temperature": 0.8}}
    for who, settings, n in ((principal(), warm, 3), (principal("k2", "p2", None), {}, 2)):
        for _ in range(n):
            await call(rt.stage, context(who=who, settings=settings), completion_tokens=40)
    await call(
        rt.stage,
        context(),
        fail=__import__("socle.pipeline.errors", fromlist=["x"]).UpstreamError("x"),
    )
    by_project = await rt.usage_report("project", "month")
    await rt.stop()
    rows = {r["project"]: r for r in by_project}
    assert rows["p1"]["requests"] == 4 and rows["p1"]["errors"] == 1
    assert rows["p1"]["mean_temperature"] == 0.8
    assert rows["p1"]["requests_with_defaults"] == 3
    assert rows["p2"]["requests"] == 2 and rows["p2"]["mean_temperature"] is None
    assert rows["p1"]["completion_tokens"] == 120
    assert rows["p1"]["cost"] > rows["p2"]["cost"] > 0
    assert rows["p1"]["co2e_g"] > 0 and rows["p1"]["energy_kwh"] > 0
    assert by_project[0]["project"] == "p1"  # sorted by cost
    by_team = await usage_report(acct_db, "team", "month", project_id="p2")
    assert [r["team"] for r in by_team] == [""]
    by_day = await usage_report(acct_db, "day", "today")
    assert by_day[0]["day"] == date.today().isoformat()
    assert await usage_report(acct_db, "key", "2001-01") == []


async def test_budget_status_lists_each_principal_of_wildcard_rules(acct_db: Database) -> None:
    cfg = config(
        budgets=[
            {"scope": "key", "id": "*", "period": "day", "limit": 1.0},
            {"scope": "project", "id": "p9", "period": "month", "limit": 2.0, "mode": "soft"},
        ]
    )
    rt = AccountingRuntime.build(cfg, acct_db)
    await rt.start()
    await call(rt.stage, context(who=principal("ka")), completion_tokens=10)
    await call(rt.stage, context(who=principal("kb")), completion_tokens=10)
    rows = await rt.budget_status()
    await rt.stop()
    keys = [(r["budget"], r["scope_id"]) for r in rows]
    assert keys == [("key:*:day", "ka"), ("key:*:day", "kb"), ("project:p9:month", "p9")]
    assert rows[0]["spent"] > 0 and rows[0]["percent"] is not None and rows[0]["resets_at"]
    assert rows[2]["spent"] == 0 and rows[2]["mode"] == "soft"
    assert await budget_status(acct_db, cfg) == rows


async def test_flushes_add_up_in_the_usage_table(acct_db: Database) -> None:
    rt = AccountingRuntime.build(config(), acct_db)
    await rt.start()
    for _ in range(3):
        await call(rt.stage, context(), completion_tokens=5)
        assert await rt.flush()
    await rt.stop()
    async with acct_db.session() as session:
        rows = (await session.execute(select(UsageDaily))).scalars().all()
    assert len(rows) == 1 and rows[0].requests == 3 and rows[0].completion_tokens == 15


def test_period_parsing() -> None:
    today = date(2026, 11, 23)
    assert parse_period("2026-11", today).end == date(2026, 11, 30)
    assert parse_period("2026-12", today).end == date(2026, 12, 31)
    assert parse_period("2026", today).start == date(2026, 1, 1)
    assert parse_period("2026-11-01..2026-11-15", today).end == date(2026, 11, 15)
    assert parse_period("today", today).start == today
    assert parse_period("month", today).start == today.replace(day=1)
    for bad in ("2026-13", "nov", "2026-11-15..2026-11-01"):
        with pytest.raises(ValueError):
            parse_period(bad, today)
