"""The generic cell rate algorithm (GCRA), the rate limiter of both backends.

A limit of ``limit`` units per ``period`` seconds with a burst of ``burst`` units keeps one number
per key, the theoretical arrival time (TAT). Each unit advances the TAT by the emission interval
``T = period / limit``; a request of ``n`` units is allowed when the advanced TAT is at most
``burst × T`` ahead of now. So at most ``burst`` units pass at once, then ``limit`` per period:
in any window of ``w`` seconds at most ``burst + floor(w / T)`` units are accepted.

``redis/admit.lua`` implements the same arithmetic in milliseconds; unit tests pin both.
"""

from __future__ import annotations

import math
from typing import NamedTuple


class GcraResult(NamedTuple):
    """One decision; a named tuple because every rate limit of every request builds one."""

    allowed: bool
    tat: float  # the new TAT when allowed, else the unchanged one
    retry_after: float | None  # seconds until the request could pass; None if it never can
    remaining: int  # whole units still available right now (after this request if allowed)
    reset_after: float  # seconds until the bucket is full again


def gcra(tat: float, now: float, interval: float, burst: int, weight: int) -> GcraResult:
    """Decide one request of ``weight`` units; ``tat`` is the stored TAT (0 when unknown)."""
    tolerance = burst * interval
    base = now if now > tat else tat  # max(tat, now), without a builtin call on the hot path
    new_tat = base + weight * interval
    ahead = new_tat - now
    if ahead <= tolerance + 1e-9:
        remaining = math.floor((tolerance - ahead) / interval + 1e-9)
        return GcraResult(True, new_tat, 0.0, remaining, ahead)
    remaining = math.floor((tolerance - (base - now)) / interval + 1e-9)
    retry = None if weight > burst else new_tat - tolerance - now
    return GcraResult(False, tat, retry, max(0, remaining), base - now)


def refund(tat: float, now: float, interval: float, units: int) -> float:
    """Give back ``units`` reserved but not used (tokens): the TAT moves back, never before now."""
    back = tat - units * interval
    return back if back > now else now
