"""Budget periods in a time zone: keys, resets, daylight saving and year ends."""

from __future__ import annotations

from datetime import UTC, datetime

from socle.accounting.periods import PeriodClock


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_day_and_month_windows_in_utc() -> None:
    clock = PeriodClock("UTC")
    day = clock.window("day", ts("2026-11-23T15:00:00+00:00"))
    assert day.key == "2026-11-23"
    assert day.end == datetime(2026, 11, 24, tzinfo=UTC)
    month = clock.window("month", ts("2026-12-31T23:59:59+00:00"))
    assert month.key == "2026-12"
    assert month.end == datetime(2027, 1, 1, tzinfo=UTC)
    total = clock.window("total", 0)
    assert total.key == "total" and total.end is None


def test_local_midnight_across_a_daylight_saving_change() -> None:
    clock = PeriodClock("Europe/Paris")
    # 2026-03-29 has 23 hours in Paris: the day still ends at local midnight.
    day = clock.window("day", ts("2026-03-29T12:00:00+02:00"))
    assert day.key == "2026-03-29"
    assert day.end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert day.end_ts is not None and day.end_ts - day.start == 23 * 3600
    # 23:30 UTC on the 28th is already the 29th in Paris in winter time.
    assert clock.window("day", ts("2026-03-28T23:30:00+00:00")).key == "2026-03-29"


def test_the_cached_window_is_replaced_when_the_period_ends() -> None:
    clock = PeriodClock("UTC")
    first = clock.window("day", ts("2026-11-23T23:59:59+00:00"))
    second = clock.window("day", ts("2026-11-24T00:00:00+00:00"))
    assert (first.key, second.key) == ("2026-11-23", "2026-11-24")
    assert clock.window("day", ts("2026-11-23T10:00:00+00:00")).key == "2026-11-23"
