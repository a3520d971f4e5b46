"""Usage drift: a project's daily spend or request count leaving its usual band.

The band is the rolling median of the previous ``window`` days ± k scaled MADs (median absolute
deviation × 1.4826, which equals one standard deviation for normal data but ignores outliers).
A floor of 10 % of the median keeps a perfectly flat history from alerting on any change.
Yesterday (a complete day) is checked in both directions; today, still running, only upwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import statistics
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from socle.accounting.alerts import Alert, AlertHub
from socle.accounting.config import AlertsConfig
from socle.accounting.persistence import AccountingStore
from socle.accounting.prices import from_nano

log = logging.getLogger(__name__)

MAD_SCALE = 1.4826
RELATIVE_FLOOR = 0.10


@dataclass(frozen=True, slots=True)
class Band:
    median: float
    low: float
    high: float


def robust_band(history: list[float], k: float) -> Band:
    """median ± k · max(1.4826 · MAD, 10 % of the median, 1e-9)."""
    median = statistics.median(history)
    mad = statistics.median(abs(x - median) for x in history)
    spread = max(MAD_SCALE * mad, RELATIVE_FLOOR * abs(median), 1e-9)
    return Band(median, median - k * spread, median + k * spread)


def drift_alerts(
    project: str,
    series: dict[date, tuple[int, int]],
    today: date,
    config: AlertsConfig,
    currency: str,
) -> list[Alert]:
    """Alerts for one project's series of (cost nano, requests) per day."""
    if not series:
        return []
    first = min(series)
    alerts: list[Alert] = []
    for day, complete in ((today - timedelta(days=1), True), (today, False)):
        start = max(first, day - timedelta(days=config.drift_window_days))
        history_days = [start + timedelta(days=i) for i in range((day - start).days)]
        if len(history_days) < config.drift_min_days:
            continue
        for index, metric in ((0, "cost"), (1, "requests")):
            history = [float(series.get(d, (0, 0))[index]) for d in history_days]
            value = float(series.get(day, (0, 0))[index])
            band = robust_band(history, config.drift_k)
            direction = "above" if value > band.high else "below" if value < band.low else None
            if direction is None or (direction == "below" and not complete):
                continue
            scale = from_nano if metric == "cost" else float
            alerts.append(
                Alert(
                    "drift",
                    f"drift:{project}:{metric}:{day.isoformat()}:{direction}",
                    {
                        "project_id": project,
                        "metric": metric,
                        "day": day.isoformat(),
                        "complete_day": complete,
                        "direction": direction,
                        "value": round(scale(int(value)), 6),
                        "median": round(scale(int(band.median)), 6),
                        "band": [round(scale(int(band.low)), 6), round(scale(int(band.high)), 6)],
                        "k": config.drift_k,
                        "history_days": len(history_days),
                        "currency": currency if metric == "cost" else None,
                    },
                )
            )
    return alerts


class DriftMonitor:
    """Checks every project periodically from the daily roll-ups (never on the hot path)."""

    def __init__(
        self,
        store: AccountingStore,
        hub: AlertHub,
        config: AlertsConfig,
        timezone: str,
        currency: str,
    ) -> None:
        self.store = store
        self.hub = hub
        self.config = config
        self.zone = ZoneInfo(timezone)
        self.currency = currency
        self._task: asyncio.Task[None] | None = None

    async def check(self, now: float | None = None) -> list[Alert]:
        """Run one check and emit its alerts; returns them."""
        today = datetime.fromtimestamp(time.time() if now is None else now, self.zone).date()
        since = today - timedelta(days=self.config.drift_window_days + 1)
        found: list[Alert] = []
        for project, series in (await self.store.daily_by_project(since)).items():
            found += drift_alerts(project, series, today, self.config, self.currency)
        for alert in found:
            self.hub.emit(alert)
        return found

    async def start(self) -> None:
        if self.config.drift_enabled and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="socle-acct-drift")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.drift_check_seconds)
            try:
                await self.check()
            except Exception:
                log.exception("usage drift check failed")
