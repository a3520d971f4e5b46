"""Which budget counters a request touches, from the configured rules and the caller's ids."""

from __future__ import annotations

import math
from collections import defaultdict

from socle.accounting.backend import CounterRef
from socle.accounting.config import BudgetRule, Period, Scope
from socle.accounting.periods import PeriodClock
from socle.accounting.prices import to_nano
from socle.pipeline.context import Principal

_CACHE_LIMIT = 50_000


def principal_ids(principal: Principal) -> dict[Scope, str | None]:
    """The id of the caller at each scope (a key need not belong to a team)."""
    return {
        "key": principal.key_id,
        "project": principal.project_id,
        "team": principal.team_id,
        "org": principal.org_id,
    }


def counter_name(scope: Scope, scope_id: str, period: Period, period_key: str) -> str:
    return f"{scope}:{scope_id}:{period}:{period_key}"


class BudgetPlan:
    """Budget rules indexed by scope and id; resolves a principal's counters in a few lookups."""

    def __init__(self, rules: list[BudgetRule], clock: PeriodClock) -> None:
        self.rules = list(rules)
        self.clock = clock
        self._exact: dict[tuple[Scope, str], list[BudgetRule]] = defaultdict(list)
        self._each: dict[Scope, list[BudgetRule]] = defaultdict(list)
        # Counters by caller, valid until the first of their periods ends: the hot path then
        # costs one dictionary lookup (and the same CounterRef objects hash and compare fast).
        self._cache: dict[
            tuple[str, str, str | None, str], tuple[float, tuple[CounterRef, ...]]
        ] = {}
        for rule in self.rules:
            if rule.id == "*":
                self._each[rule.scope].append(rule)
            else:
                self._exact[(rule.scope, rule.id)].append(rule)

    def __bool__(self) -> bool:
        return bool(self.rules)

    def counters(self, principal: Principal, now: float) -> tuple[CounterRef, ...]:
        """Every counter of this principal under some rule, with its tightest hard limit."""
        if not self.rules:
            return ()
        key = (principal.key_id, principal.project_id, principal.team_id, principal.org_id)
        cached = self._cache.get(key)
        if cached is not None and now < cached[0]:
            return cached[1]
        counters = self._resolve(principal, now)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        ends = [c.period_end for c in counters if c.period_end is not None]
        self._cache[key] = (min(ends, default=math.inf), counters)
        return counters

    def _resolve(self, principal: Principal, now: float) -> tuple[CounterRef, ...]:
        found: list[CounterRef] = []
        for scope, scope_id in principal_ids(principal).items():
            if not scope_id:
                continue
            rules = self._each.get(scope, []) + self._exact.get((scope, scope_id), [])
            if not rules:
                continue
            by_period: dict[Period, list[BudgetRule]] = defaultdict(list)
            for rule in rules:
                by_period[rule.period].append(rule)
            for period, group in by_period.items():
                window = self.clock.window(period, now)
                hard = [to_nano(r.limit) for r in group if r.mode == "hard"]
                found.append(
                    CounterRef(
                        counter=counter_name(scope, scope_id, period, window.key),
                        scope=scope,
                        scope_id=scope_id,
                        period=period,
                        period_key=window.key,
                        period_end=window.end_ts,
                        hard_limit=min(hard) if hard else None,
                        rules=tuple(group),
                    )
                )
        return tuple(found)

    def counters_of_rule(self, rule: BudgetRule, now: float) -> CounterRef | None:
        """The current counter of a rule naming one id (None for '*' rules)."""
        if rule.id == "*":
            return None
        window = self.clock.window(rule.period, now)
        return CounterRef(
            counter=counter_name(rule.scope, rule.id, rule.period, window.key),
            scope=rule.scope,
            scope_id=rule.id,
            period=rule.period,
            period_key=window.key,
            period_end=window.end_ts,
            hard_limit=to_nano(rule.limit) if rule.mode == "hard" else None,
            rules=(rule,),
        )
