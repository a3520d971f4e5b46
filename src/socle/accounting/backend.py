"""What a counter backend does (in-process or Redis): admit a request, settle it, reconcile.

``admit`` is atomic: it checks every rate limit and every hard budget of the request and, only if
all pass, advances the rate limiters and adds the reservation to every budget counter. ``settle``
replaces the reservation by the actual cost (0 releases it) and gives back unused tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol

from socle.accounting.config import BudgetRule, Period, Scope

RateKind = Literal["requests", "tokens"]


class BackendUnavailable(Exception):
    """The shared counter store cannot be reached; the failure mode decides what happens."""


@dataclass(frozen=True, slots=True)
class CounterRef:
    """One budget counter a request touches: spend of one principal over one period."""

    counter: str  # "project:p1:month:2026-11"
    scope: Scope
    scope_id: str
    period: Period
    period_key: str
    period_end: float | None  # Unix time the period resets; None for "total"
    hard_limit: int | None  # nano-units; the smallest hard rule on this counter, None if none
    rules: tuple[BudgetRule, ...] = field(default=(), compare=False)

    @property
    def expire_at(self) -> int:
        """When a shared store may forget the counter (two days after the reset), 0 = never."""
        return 0 if self.period_end is None else int(self.period_end) + 2 * 86400


@dataclass(frozen=True, slots=True)
class RateRef:
    """One rate limit a request is checked against, with what the request weighs in it."""

    key: str  # "key:k1:requests"
    scope: Scope
    scope_id: str
    kind: RateKind
    limit: int  # units per minute
    burst: int
    weight: int

    @property
    def interval(self) -> float:
        """Seconds per unit (the GCRA emission interval)."""
        return 60.0 / self.limit


class RateState(NamedTuple):
    """A rate limit's state after a decision, for the x-ratelimit-* headers.

    A named tuple, not a frozen dataclass: every rate limit of every request builds one, and a
    tuple is built several times faster.
    """

    ref: RateRef
    remaining: int
    reset_after: float


@dataclass(slots=True)
class Admission:
    """The outcome of ``admit``; on refusal exactly one of ``rate``/``budget`` says why."""

    ok: bool
    epoch: str = ""  # the shared store's epoch at reservation time ("" in-process)
    rates: list[RateState] = field(default_factory=list)
    denied_rate: RateRef | None = None
    retry_after: float | None = None
    denied_budget: CounterRef | None = None
    spent: int = 0
    reserved: int = 0


@dataclass(slots=True)
class Settlement:
    """The outcome of ``settle``: the epoch the cost was applied to and the new spend."""

    applied_epoch: str | None  # None: not applied to the shared store (reconciled later)
    spent: dict[str, int] = field(default_factory=dict)  # counter -> settled spend after


class CounterBackend(Protocol):
    """In-process or Redis counters; see :mod:`socle.accounting.memory` and ``redis_backend``."""

    shared: bool  # True when several replicas see the same counters

    async def admit(
        self, counters: Sequence[CounterRef], amount: int, rates: Sequence[RateRef]
    ) -> Admission: ...

    async def settle(
        self,
        counters: Sequence[CounterRef],
        epoch: str,
        reserved: int,
        actual: int,
        refunds: Sequence[tuple[RateRef, int]],
    ) -> Settlement: ...

    async def load(self, rows: Sequence[tuple[str, int, float | None]]) -> None:
        """Seed counters with (counter, spend, period end) recovered from the database."""
        ...

    async def after_flush(self, db_epoch: str, unapplied: dict[CounterRef, int]) -> None:
        """Re-apply to the shared store the spend it lost (see docs/finops.md, "Redis")."""
        ...

    async def close(self) -> None: ...
