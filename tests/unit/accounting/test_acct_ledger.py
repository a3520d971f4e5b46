"""Reserve-then-settle on the in-process backend: exact limits under concurrency."""

from __future__ import annotations

import asyncio
import random

from socle.accounting.budgets import BudgetPlan
from socle.accounting.config import BudgetRule, RateLimits
from socle.accounting.journal import SpendJournal
from socle.accounting.ledger import BudgetLedger
from socle.accounting.memory import MemoryBackend
from socle.accounting.periods import PeriodClock
from socle.accounting.prices import to_nano
from socle.accounting.ratelimits import RatePlan
from tests.unit.accounting.acct_support import principal

NOW = 1_795_000_000.0


def ledger(
    rules: list[BudgetRule], rates: RateLimits | None = None, clock: float = 0.0
) -> tuple[BudgetLedger, MemoryBackend, SpendJournal]:
    backend = MemoryBackend(monotonic=lambda: clock)
    journal = SpendJournal()
    plan = BudgetPlan(rules, PeriodClock("UTC"))
    return BudgetLedger(backend, plan, RatePlan(rates or RateLimits()), journal), backend, journal


async def test_exactly_k_concurrent_reservations_fit_a_hard_budget() -> None:
    amount = to_nano(0.01)
    led, backend, journal = ledger([BudgetRule(scope="project", id="p1", limit=0.05)])

    async def one() -> bool:
        reservation, admission = await led.reserve(principal(), amount, 0, NOW)
        assert admission is not None
        if not admission.ok:
            return False
        await asyncio.sleep(random.random() / 100)
        await led.settle(reservation, amount, 0)
        return True

    results = await asyncio.gather(*(one() for _ in range(50)))
    assert sum(results) == 5
    counter = "project:p1:month:" + PeriodClock().window("month", NOW).key
    assert backend.spent[counter] == 5 * amount
    assert backend.reserved[counter] == 0
    assert sum(journal.take().values()) == 5 * amount


async def test_settling_below_the_reservation_frees_room_and_release_frees_all() -> None:
    led, backend, _ = ledger([BudgetRule(scope="key", id="*", limit=1.0)])
    first, _ = await led.reserve(principal(), to_nano(0.8), 0, NOW)
    _, admission = await led.reserve(principal(), to_nano(0.3), 0, NOW)
    assert admission is not None and not admission.ok
    assert admission.spent == 0 and admission.reserved == to_nano(0.8)
    await led.settle(first, to_nano(0.5), 0)
    second, admission = await led.reserve(principal(), to_nano(0.3), 0, NOW)
    assert admission is not None and admission.ok
    await led.settle(second, 0, 0)  # a failed call releases everything
    counter = first.counters[0].counter
    assert backend.spent[counter] == to_nano(0.5) and backend.reserved[counter] == 0
    # Another key has its own counter under the '*' rule.
    _, other = await led.reserve(principal(key_id="k2"), to_nano(0.9), 0, NOW)
    assert other is not None and other.ok


async def test_soft_budgets_never_refuse_and_an_exhausted_budget_refuses_free_requests() -> None:
    led, _, _ = ledger(
        [
            BudgetRule(scope="team", id="t1", limit=0.01, mode="soft"),
            BudgetRule(scope="org", id="o1", limit=0.02),
        ]
    )
    reservation, admission = await led.reserve(principal(), to_nano(0.015), 0, NOW)
    assert admission is not None and admission.ok
    await led.settle(reservation, to_nano(0.02), 0)
    _, admission = await led.reserve(principal(), 0, 0, NOW)
    assert admission is not None and not admission.ok
    assert admission.denied_budget is not None and admission.denied_budget.scope == "org"


async def test_rate_limit_checks_requests_and_tokens_and_refunds_unused_tokens() -> None:
    rates = RateLimits.model_validate({"key": {"rpm": 3, "tpm": 1000}})
    led, _, _ = ledger([], rates)
    r1, a1 = await led.reserve(principal(), 0, 600, NOW)
    assert a1 is not None and a1.ok
    _, a2 = await led.reserve(principal(), 0, 600, NOW)
    assert a2 is not None and not a2.ok and a2.denied_rate is not None
    assert a2.denied_rate.kind == "tokens"
    await led.settle(r1, 0, 100)  # used 100 of 600: 500 come back
    _, a3 = await led.reserve(principal(), 0, 600, NOW)
    assert a3 is not None and a3.ok
    _, a4 = await led.reserve(principal(), 0, 1, NOW)
    assert a4 is not None and a4.ok
    _, a5 = await led.reserve(principal(), 0, 1, NOW)
    assert a5 is not None and not a5.ok and a5.denied_rate is not None
    assert a5.denied_rate.kind == "requests" and a5.retry_after == 20.0


async def test_no_rule_means_no_backend_work() -> None:
    led, backend, journal = ledger([])
    reservation, admission = await led.reserve(principal(), 123, 10, NOW)
    assert admission is None and reservation.empty
    assert await led.settle(reservation, 123, 10) is None
    assert backend.spent == {} and len(journal) == 0


async def test_recovered_spend_counts_against_the_budget() -> None:
    led, backend, _ = ledger([BudgetRule(scope="project", id="p1", limit=1.0)])
    counter = "project:p1:month:" + PeriodClock().window("month", NOW).key
    await backend.load([(counter, to_nano(0.95), None)])
    _, admission = await led.reserve(principal(), to_nano(0.1), 0, NOW)
    assert admission is not None and not admission.ok
