"""In-process counters: one gateway instance, the default.

Every method runs without awaiting, so on one event loop each call is atomic: no lock is needed
for reserve-then-settle to be exact. Several worker processes would each enforce their own copy
of a budget; use the Redis backend for more than one process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from socle.accounting.backend import (
    Admission,
    CounterRef,
    RateRef,
    RateState,
    Settlement,
)
from socle.accounting.gcra import gcra, refund


class MemoryBackend:
    """Budget counters and GCRA states in dictionaries."""

    shared = False

    def __init__(self, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._now = monotonic
        self.spent: dict[str, int] = {}
        self.reserved: dict[str, int] = {}
        self.tats: dict[str, float] = {}
        self._expiry: dict[str, float] = {}

    async def admit(
        self, counters: Sequence[CounterRef], amount: int, rates: Sequence[RateRef]
    ) -> Admission:
        now = self._now()
        tats = self.tats
        states: list[RateState] = []
        new_tats: list[float] = []
        for ref in rates:
            result = gcra(tats.get(ref.key, 0.0), now, ref.interval, ref.burst, ref.weight)
            state = RateState(ref, result.remaining, result.reset_after)
            if not result.allowed:
                return Admission(
                    ok=False, rates=[state], denied_rate=ref, retry_after=result.retry_after
                )
            states.append(state)
            new_tats.append(result.tat)
        spent_of, reserved_of = self.spent, self.reserved
        for counter in counters:
            hard_limit = counter.hard_limit
            if hard_limit is None:
                continue
            spent = spent_of.get(counter.counter, 0)
            reserved = reserved_of.get(counter.counter, 0)
            if spent >= hard_limit or spent + reserved + amount > hard_limit:
                return Admission(
                    ok=False, rates=states, denied_budget=counter, spent=spent, reserved=reserved
                )
        for ref, tat in zip(rates, new_tats, strict=True):
            tats[ref.key] = tat
        for counter in counters:
            key = counter.counter
            reserved_of[key] = reserved_of.get(key, 0) + amount
            if counter.period_end is not None:
                self._expiry[key] = counter.period_end
        return Admission(ok=True, rates=states)

    async def settle(
        self,
        counters: Sequence[CounterRef],
        epoch: str,
        reserved: int,
        actual: int,
        refunds: Sequence[tuple[RateRef, int]],
    ) -> Settlement:
        settlement = Settlement(applied_epoch=epoch)
        spent_of, reserved_of, settled = self.spent, self.reserved, settlement.spent
        for counter in counters:
            key = counter.counter
            held = reserved_of.get(key, 0) - reserved
            reserved_of[key] = held if held > 0 else 0
            settled[key] = spent_of[key] = spent_of.get(key, 0) + actual
        if refunds:
            now = self._now()
            tats = self.tats
            for ref, units in refunds:
                tat = tats.get(ref.key)
                if tat is not None and units > 0:
                    tats[ref.key] = refund(tat, now, ref.interval, units)
        return settlement

    async def load(self, rows: Sequence[tuple[str, int, float | None]]) -> None:
        for key, value, period_end in rows:
            self.spent[key] = self.spent.get(key, 0) + value
            if period_end is not None:
                self._expiry[key] = period_end

    async def after_flush(self, db_epoch: str, unapplied: dict[CounterRef, int]) -> None:
        return None

    def prune(self, wall_now: float) -> None:
        """Forget counters of finished periods and idle rate limiters (bounded memory)."""
        for key, end in list(self._expiry.items()):
            if end <= wall_now and not self.reserved.get(key):
                del self._expiry[key]
                self.spent.pop(key, None)
                self.reserved.pop(key, None)
        now = self._now()
        for key in [k for k, tat in self.tats.items() if tat <= now]:
            del self.tats[key]

    async def close(self) -> None:
        return None
