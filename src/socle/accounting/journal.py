"""Buffers filled on the hot path and emptied by the flusher: settled spend and usage roll-ups.

Adding is a few dictionary updates; the flusher swaps a buffer out whole (``take``) and puts it
back (``restore``) if the database write fails, so nothing is lost or counted twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from socle.accounting.backend import CounterRef
from socle.accounting.carbon import Footprint
from socle.pipeline.context import Usage

SpendKey = tuple[CounterRef, str | None]  # (counter, epoch the amount was applied to, or None)
UsageKey = tuple[date, str, str, str, str, str, str]  # day, org, team, project, key, model, dep


class SpendJournal:
    """Settled amounts not yet written to the database, by counter and applied epoch."""

    def __init__(self) -> None:
        self._amounts: dict[SpendKey, int] = {}

    def __len__(self) -> int:
        return len(self._amounts)

    def add(self, counters: Sequence[CounterRef], amount: int, epoch: str | None) -> None:
        if amount == 0:
            return
        for counter in counters:
            key = (counter, epoch)
            self._amounts[key] = self._amounts.get(key, 0) + amount

    def take(self) -> dict[SpendKey, int]:
        taken, self._amounts = self._amounts, {}
        return taken

    def restore(self, taken: dict[SpendKey, int]) -> None:
        for key, amount in taken.items():
            self._amounts[key] = self._amounts.get(key, 0) + amount


@dataclass(slots=True)
class UsageTotals:
    """Sums for one roll-up row (see socle.store.models.accounting.UsageDaily)."""

    requests: int = 0
    errors: int = 0
    refused: int = 0
    estimated: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_nano: int = 0
    energy_kwh: float = 0.0
    co2e_g: float = 0.0
    temperature_sum: float = 0.0
    temperature_count: int = 0
    defaults_applied: int = 0

    def merge(self, other: UsageTotals) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.refused += other.refused
        self.estimated += other.estimated
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_tokens += other.cached_tokens
        self.cost_nano += other.cost_nano
        self.energy_kwh += other.energy_kwh
        self.co2e_g += other.co2e_g
        self.temperature_sum += other.temperature_sum
        self.temperature_count += other.temperature_count
        self.defaults_applied += other.defaults_applied


class UsageBuffer:
    """Per-day usage by (org, team, project, key, model, deployment), waiting for the flusher."""

    def __init__(self) -> None:
        self._rows: dict[UsageKey, UsageTotals] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def add(self, key: UsageKey, totals: UsageTotals) -> None:
        row = self._rows.get(key)
        if row is None:
            self._rows[key] = totals
        else:
            row.merge(totals)

    def add_request(
        self,
        key: UsageKey,
        *,
        error: bool,
        refused: bool,
        usage: Usage,
        cost_nano: int,
        footprint: Footprint | None,
        temperature: float | None,
        defaults_applied: bool,
    ) -> None:
        """Count one request, as ``add`` would with its totals, without building them first."""
        row = self._rows.get(key)
        if row is None:
            self._rows[key] = row = UsageTotals()
        # The same sums, in the same order, as ``UsageTotals.merge``.
        row.requests += 1
        row.errors += error
        row.refused += refused
        row.estimated += usage.estimated
        row.prompt_tokens += usage.prompt_tokens
        row.completion_tokens += usage.completion_tokens
        row.cached_tokens += usage.cached_tokens
        row.cost_nano += cost_nano
        if footprint is not None:
            row.energy_kwh += footprint.energy_kwh
            row.co2e_g += footprint.co2e_g
        if temperature is not None:
            row.temperature_sum += temperature
            row.temperature_count += 1
        row.defaults_applied += defaults_applied

    def take(self) -> dict[UsageKey, UsageTotals]:
        taken, self._rows = self._rows, {}
        return taken

    def restore(self, taken: dict[UsageKey, UsageTotals]) -> None:
        for key, totals in taken.items():
            self.add(key, totals)
