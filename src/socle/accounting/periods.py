"""Budget periods: which day or month a moment falls in, and when that period resets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from socle.accounting.config import Period


@dataclass(frozen=True, slots=True)
class PeriodWindow:
    """One concrete period: ``key`` names it ("2026-11-23", "2026-11", "total")."""

    period: Period
    key: str
    start: float  # Unix time, inclusive (0 for "total")
    end_ts: float | None  # Unix time, exclusive; None for "total"

    @property
    def end(self) -> datetime | None:
        """The reset moment in UTC."""
        return None if self.end_ts is None else datetime.fromtimestamp(self.end_ts, UTC)

    def contains(self, now: float) -> bool:
        return now >= self.start and (self.end_ts is None or now < self.end_ts)


class PeriodClock:
    """Maps timestamps to period windows in one time zone, caching the current day and month."""

    def __init__(self, timezone: str = "UTC") -> None:
        self.zone = ZoneInfo(timezone)
        self._cache: dict[Period, PeriodWindow] = {}

    def window(self, period: Period, now: float) -> PeriodWindow:
        """The window containing ``now`` (a Unix timestamp)."""
        cached = self._cache.get(period)
        if cached is not None and cached.contains(now):
            return cached
        window = self._compute(period, now)
        self._cache[period] = window
        return window

    def _compute(self, period: Period, now: float) -> PeriodWindow:
        if period == "total":
            return PeriodWindow("total", "total", 0.0, None)
        local = datetime.fromtimestamp(now, self.zone)
        if period == "day":
            start = local.replace(hour=0, minute=0, second=0, microsecond=0)
            # Wall-clock arithmetic: the next local midnight, whatever the DST change.
            end = datetime.combine(start.date() + timedelta(days=1), start.time(), self.zone)
            key = start.strftime("%Y-%m-%d")
        else:
            start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            year, month = (
                (start.year + 1, 1) if start.month == 12 else (start.year, start.month + 1)
            )
            end = datetime(year, month, 1, tzinfo=self.zone)
            key = start.strftime("%Y-%m")
        return PeriodWindow(period, key, start.timestamp(), end.timestamp())
