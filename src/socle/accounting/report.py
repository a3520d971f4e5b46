"""Showback reports from the daily roll-ups, and budget status; used by the admin API and CLI."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, or_, select

from socle.accounting.budgets import BudgetPlan
from socle.accounting.config import AccountingConfig
from socle.accounting.periods import PeriodClock
from socle.accounting.prices import from_nano
from socle.store.database import Database
from socle.store.models.accounting import BudgetSpend, UsageDaily

GroupBy = Literal["project", "team", "key", "org", "model", "deployment", "day"]
GROUPS: tuple[GroupBy, ...] = ("project", "team", "key", "org", "model", "deployment", "day")
_COLUMNS = {
    "project": UsageDaily.project_id,
    "team": UsageDaily.team_id,
    "key": UsageDaily.key_id,
    "org": UsageDaily.org_id,
    "model": UsageDaily.model,
    "deployment": UsageDaily.deployment,
    "day": UsageDaily.day,
}
_PERIOD = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True, slots=True)
class DateRange:
    """Days ``start`` to ``end`` inclusive."""

    start: date
    end: date


def parse_period(text: str, today: date | None = None) -> DateRange:
    """``2026``, ``2026-11``, ``2026-11-23``, ``2026-11-01..2026-11-15``, ``today``, ``month``.

    Raises ValueError with the accepted forms.
    """
    text = text.strip()
    today = today or date.today()
    if text == "today":
        return DateRange(today, today)
    if text == "month":
        return _one(today.strftime("%Y-%m"))
    if ".." in text:
        first, last = text.split("..", 1)
        start, end = _one(first).start, _one(last).end
        if end < start:
            raise ValueError(f"period {text!r} ends before it starts")
        return DateRange(start, end)
    return _one(text)


def _one(text: str) -> DateRange:
    if not _PERIOD.match(text):
        raise ValueError(
            f"invalid period {text!r}: use YYYY, YYYY-MM, YYYY-MM-DD, FROM..TO, today or month"
        )
    parts = [int(p) for p in text.split("-")]
    try:
        if len(parts) == 1:
            return DateRange(date(parts[0], 1, 1), date(parts[0], 12, 31))
        if len(parts) == 2:
            start = date(parts[0], parts[1], 1)
            following = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            return DateRange(start, following - timedelta(days=1))
        day = date(parts[0], parts[1], parts[2])
    except ValueError as exc:
        raise ValueError(f"invalid period {text!r}: {exc}") from None
    return DateRange(day, day)


async def usage_report(
    database: Database,
    by: GroupBy,
    period: str | DateRange,
    *,
    org_id: str | None = None,
    team_id: str | None = None,
    project_id: str | None = None,
    key_id: str | None = None,
    model: str | None = None,
    currency: str = "EUR",
) -> list[dict[str, Any]]:
    """Requests, tokens, cost, kWh, gCO2e, errors and mean temperature per ``by`` value.

    Rows are sorted by cost (highest first). Data is as of the last flush (a few seconds).
    """
    if by not in _COLUMNS:
        raise ValueError(f"cannot group by {by!r}; choose one of {', '.join(GROUPS)}")
    window = parse_period(period) if isinstance(period, str) else period
    group = _COLUMNS[by]
    cost = func.sum(UsageDaily.cost_nano)
    query = (
        select(
            group,
            func.sum(UsageDaily.requests),
            func.sum(UsageDaily.errors),
            func.sum(UsageDaily.refused),
            func.sum(UsageDaily.estimated),
            func.sum(UsageDaily.prompt_tokens),
            func.sum(UsageDaily.completion_tokens),
            func.sum(UsageDaily.cached_tokens),
            cost,
            func.sum(UsageDaily.energy_kwh),
            func.sum(UsageDaily.co2e_g),
            func.sum(UsageDaily.temperature_sum),
            func.sum(UsageDaily.temperature_count),
            func.sum(UsageDaily.defaults_applied),
        )
        .where(UsageDaily.day >= window.start, UsageDaily.day <= window.end)
        .group_by(group)
        .order_by(cost.desc(), group)
    )
    filters = {
        UsageDaily.org_id: org_id,
        UsageDaily.team_id: team_id,
        UsageDaily.project_id: project_id,
        UsageDaily.key_id: key_id,
        UsageDaily.model: model,
    }
    for column, value in filters.items():
        if value is not None:
            query = query.where(column == value)
    async with database.session() as session:
        rows = (await session.execute(query)).all()
    report = []
    for row in rows:
        (label, requests, errors, refused, estimated, prompt, completion, cached, nano) = row[:9]
        energy, co2e, temp_sum, temp_count, defaults = row[9:]
        temp_count = int(temp_count or 0)
        report.append(
            {
                by: label.isoformat() if isinstance(label, date) else label,
                "requests": int(requests or 0),
                "errors": int(errors or 0),
                "refused": int(refused or 0),
                "estimated_requests": int(estimated or 0),
                "prompt_tokens": int(prompt or 0),
                "completion_tokens": int(completion or 0),
                "cached_tokens": int(cached or 0),
                "total_tokens": int(prompt or 0) + int(completion or 0),
                "cost": round(from_nano(int(nano or 0)), 9),
                "currency": currency,
                "energy_kwh": float(energy or 0.0),
                "co2e_g": float(co2e or 0.0),
                "mean_temperature": (
                    round(float(temp_sum) / temp_count, 4) if temp_count else None
                ),
                "requests_with_defaults": int(defaults or 0),
            }
        )
    return report


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


async def budget_status(
    database: Database, config: AccountingConfig, now: float | None = None
) -> list[dict[str, Any]]:
    """Every configured budget's current period: limit, settled spend, percent, reset time.

    ``*`` rules list one row per principal that has spent in the current period.
    """
    now = time.time() if now is None else now
    plan = BudgetPlan(config.budgets, PeriodClock(config.timezone))
    current = or_(BudgetSpend.period_end.is_(None), BudgetSpend.period_end > _utc(now))
    async with database.session() as session:
        rows_found = await session.execute(select(BudgetSpend).where(current))
        spend = {row.counter: row for row in rows_found.scalars()}
    rows: list[dict[str, Any]] = []
    for rule in config.budgets:
        window = plan.clock.window(rule.period, now)
        if rule.id == "*":
            matches = [
                r
                for r in spend.values()
                if r.scope == rule.scope and r.period == rule.period and r.period_key == window.key
            ]
            ids = [(r.scope_id, int(r.spent_nano)) for r in matches]
        else:
            ref = plan.counters_of_rule(rule, now)
            assert ref is not None
            found = spend.get(ref.counter)
            ids = [(rule.id, int(found.spent_nano) if found else 0)]
        for scope_id, spent_nano in sorted(ids):
            spent = from_nano(spent_nano)
            rows.append(
                {
                    "budget": rule.name,
                    "scope": rule.scope,
                    "scope_id": scope_id,
                    "period": rule.period,
                    "period_key": window.key,
                    "mode": rule.mode,
                    "limit": rule.limit,
                    "spent": round(spent, 9),
                    "currency": config.currency,
                    "percent": round(100.0 * spent / rule.limit, 2) if rule.limit else None,
                    "resets_at": window.end.isoformat() if window.end else None,
                }
            )
    return rows
