"""Robust drift bands: median ± k·scaled MAD, with a floor for flat histories."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from socle.accounting.config import AlertsConfig
from socle.accounting.drift import drift_alerts, robust_band

TODAY = date(2026, 11, 23)


def test_band_ignores_a_single_outlier_in_the_history() -> None:
    band = robust_band([10, 11, 9, 10, 12, 10, 500], k=3)
    assert band.median == 10
    assert band.high == pytest.approx(10 + 3 * 1.4826 * 1)
    assert band.low == pytest.approx(10 - 3 * 1.4826 * 1)


def test_flat_history_gets_a_ten_percent_floor() -> None:
    band = robust_band([100.0] * 10, k=3)
    assert (band.low, band.high) == pytest.approx((70.0, 130.0))


def series(values: list[int], today_value: int | None = None) -> dict[date, tuple[int, int]]:
    days = {TODAY - timedelta(days=len(values) - i): (v * 10**9, v) for i, v in enumerate(values)}
    if today_value is not None:
        days[TODAY] = (today_value * 10**9, today_value)
    return days


def test_yesterday_is_checked_both_ways_and_today_only_upwards() -> None:
    config = AlertsConfig(drift_min_days=5)
    history = [100, 104, 98, 101, 99, 103, 97, 100]
    drop = series([*history, 10], today_value=1)  # yesterday collapsed, today just started
    found = {
        (a.data["metric"], a.data["direction"], a.data["complete_day"])
        for a in drift_alerts("p", drop, TODAY, config, "EUR")
    }
    assert found == {("cost", "below", True), ("requests", "below", True)}
    spike = series(history, today_value=500)
    found = {
        (a.data["metric"], a.data["direction"])
        for a in drift_alerts("p", spike, TODAY, config, "EUR")
    }
    assert found == {("cost", "above"), ("requests", "above")}


def test_no_alert_without_enough_history_or_within_the_band() -> None:
    config = AlertsConfig(drift_min_days=7)
    assert drift_alerts("p", series([100, 100, 100], today_value=900), TODAY, config, "EUR") == []
    steady = series([100, 104, 98, 101, 99, 103, 97, 100, 102], today_value=60)
    assert drift_alerts("p", steady, TODAY, config, "EUR") == []


def test_missing_days_count_as_zero_usage() -> None:
    config = AlertsConfig(drift_min_days=5)
    sparse = {TODAY - timedelta(days=d): (10**9, 100) for d in (10, 8, 6, 4, 2)}
    sparse[TODAY - timedelta(days=1)] = (10**9, 100)
    # Half the days were empty: one active day is within the band of a half-active project.
    assert drift_alerts("p", sparse, TODAY, config, "EUR") == []
