"""Reserve-then-settle over a principal's budgets and rate limits, on either backend.

The ledger turns a caller and an amount into counters and rate keys, asks the backend to admit,
and applies the configured failure mode when the shared backend is unreachable. Every settled
amount also goes to the :class:`SpendJournal`, which the flusher writes to the database.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from socle.accounting.backend import (
    Admission,
    BackendUnavailable,
    CounterBackend,
    CounterRef,
    RateRef,
    Settlement,
)
from socle.accounting.budgets import BudgetPlan
from socle.accounting.journal import SpendJournal
from socle.accounting.ratelimits import RatePlan
from socle.pipeline.context import Principal
from socle.pipeline.errors import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Reservation:
    """What ``reserve`` holds for one request, needed to settle it."""

    counters: tuple[CounterRef, ...]
    rates: tuple[RateRef, ...]
    amount: int  # nano-units held on every counter
    epoch: str  # backend epoch at reservation
    held: bool  # False when nothing was reserved (no rule, or admitted while Redis was down)

    @property
    def empty(self) -> bool:
        return not self.counters and not self.rates


class OutageLog:
    """Logs a backend outage once when it starts and once when it ends, with what it cost."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.since: float | None = None
        self.affected = 0

    def failed(self, reason: str) -> None:
        self.affected += 1
        if self.since is None:
            self.since = time.monotonic()
            action = "refusing requests" if self.mode == "closed" else "admitting without limits"
            log.error(
                "accounting backend unavailable (%s): failing %s, %s", reason, self.mode, action
            )

    def recovered(self) -> None:
        if self.since is not None:
            verb = "refused" if self.mode == "closed" else "admitted unchecked"
            log.warning(
                "accounting backend back after %.1fs; %d requests %s meanwhile",
                time.monotonic() - self.since,
                self.affected,
                verb,
            )
            self.since = None
            self.affected = 0


class BudgetLedger:
    """Budgets and rate limits of every caller, over one backend."""

    def __init__(
        self,
        backend: CounterBackend,
        budgets: BudgetPlan,
        rates: RatePlan,
        journal: SpendJournal,
        failure_mode: str = "closed",
    ) -> None:
        self.backend = backend
        self.budgets = budgets
        self.rates = rates
        self.journal = journal
        self.failure_mode = failure_mode
        self.outage = OutageLog(failure_mode)

    async def reserve(
        self, principal: Principal, amount: int, tokens: int, now: float
    ) -> tuple[Reservation, Admission | None]:
        """Admit the request or say why not (``Admission.ok`` False); raises 503 if fail-closed."""
        counters = self.budgets.counters(principal, now)
        refs = self.rates.refs(principal, tokens)
        if not counters and not refs:
            return Reservation(counters, refs, 0, "", held=False), None
        try:
            admission = await self.backend.admit(counters, amount, refs)
        except BackendUnavailable as exc:
            self.outage.failed(str(exc))
            if self.failure_mode == "closed":
                raise ServiceUnavailable(
                    "usage accounting is unavailable, so budgets cannot be enforced; "
                    "the request was refused (accounting.failure_mode: closed)",
                    code="accounting_unavailable",
                ) from exc
            return Reservation(counters, refs, 0, "", held=False), None
        self.outage.recovered()
        return Reservation(counters, refs, amount, admission.epoch, held=admission.ok), admission

    async def settle(
        self, reservation: Reservation, actual: int, used_tokens: int
    ) -> Settlement | None:
        """Replace the reservation by the actual cost (0 releases it); journal the cost."""
        if reservation.empty:
            return None
        refunds: list[tuple[RateRef, int]] = []
        if reservation.held:
            refunds = [
                (ref, ref.weight - used_tokens)
                for ref in reservation.rates
                if ref.kind == "tokens" and ref.weight > used_tokens
            ]
        if not reservation.counters and not refunds:
            return None
        held = reservation.amount if reservation.held else 0
        try:
            settlement = await self.backend.settle(
                reservation.counters, reservation.epoch, held, actual, refunds
            )
        except BackendUnavailable as exc:
            self.outage.failed(str(exc))
            settlement = Settlement(applied_epoch=None)
        else:
            self.outage.recovered()
        self.journal.add(reservation.counters, actual, settlement.applied_epoch)
        return settlement
