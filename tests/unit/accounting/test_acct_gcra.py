"""GCRA arithmetic: bursts, steady rate, retry-after and refunds."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from socle.accounting.gcra import gcra, refund


def test_a_full_burst_passes_then_the_next_waits_one_interval() -> None:
    interval, burst, tat, now = 1.0, 5, 0.0, 100.0
    for expected_remaining in (4, 3, 2, 1, 0):
        result = gcra(tat, now, interval, burst, 1)
        assert result.allowed
        assert result.remaining == expected_remaining
        tat = result.tat
    denied = gcra(tat, now, interval, burst, 1)
    assert not denied.allowed
    assert denied.retry_after is not None
    assert math.isclose(denied.retry_after, 1.0)
    assert denied.tat == tat  # a refusal changes nothing
    later = gcra(tat, now + 1.0, interval, burst, 1)
    assert later.allowed


def test_weight_counts_units_and_a_request_above_the_burst_can_never_pass() -> None:
    result = gcra(0.0, 10.0, 0.5, 100, 60)
    assert result.allowed and result.remaining == 40
    assert math.isclose(result.reset_after, 30.0)
    never = gcra(0.0, 10.0, 0.5, 100, 101)
    assert not never.allowed and never.retry_after is None


def test_refund_moves_the_tat_back_but_never_before_now() -> None:
    assert refund(20.0, 10.0, 0.5, 4) == 18.0
    assert refund(20.0, 10.0, 0.5, 1000) == 10.0


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=120),
    burst=st.integers(min_value=1, max_value=50),
    gaps=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=1, max_size=300),
)
def test_never_more_than_burst_plus_rate_in_any_window(
    limit: int, burst: int, gaps: list[float]
) -> None:
    interval = 60.0 / limit
    tat, now, accepted = 0.0, 1000.0, []
    for gap in gaps:
        now += gap
        result = gcra(tat, now, interval, burst, 1)
        if result.allowed:
            tat = result.tat
            accepted.append(now)
    for i, start in enumerate(accepted):
        for window in (0.0, interval, 60.0):
            inside = sum(1 for t in accepted[i:] if t - start <= window)
            assert inside <= burst + math.floor(window / interval + 1e-9)
