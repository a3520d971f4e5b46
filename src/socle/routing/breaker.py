"""A circuit breaker per deployment: stop calling an upstream that keeps failing, probe it later.

States::

    closed ──N failures within window──► open ──open_s elapsed──► half_open
      ▲                                   ▲                          │
      └────────── probe succeeds ─────────┼──── probe fails ─────────┘

While half-open, at most ``half_open_probes`` calls are in flight; other requests skip the
deployment. The breaker is local to one gateway replica (each replica sees its own failures).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from socle.routing.config import BreakerPolicy

BreakerState = Literal["closed", "open", "half_open"]
STATE_VALUES: dict[BreakerState, int] = {"closed": 0, "half_open": 1, "open": 2}


class CircuitBreaker:
    """The breaker of one deployment. Not thread-safe: used from one event loop."""

    __slots__ = (
        "_clock",
        "_failures",
        "_on_change",
        "_opened_at",
        "_probes",
        "_state",
        "policy",
        "transitions",
    )

    def __init__(
        self,
        policy: BreakerPolicy,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        """``on_change`` is called with the new state on every transition."""
        self.policy = policy
        self._clock = clock
        self._on_change = on_change
        self._state: BreakerState = "closed"
        self._failures: deque[float] = deque()
        self._opened_at = 0.0
        self._probes = 0
        self.transitions = 0

    @property
    def state(self) -> BreakerState:
        """The current state, moving from open to half-open when ``open_s`` has passed."""
        if self._state == "open" and self._clock() - self._opened_at >= self.policy.open_s:
            self._set("half_open")
            self._probes = 0
        return self._state

    def available(self) -> bool:
        """Whether a call may be tried now (without reserving a probe slot)."""
        state = self.state
        return state == "closed" or (
            state == "half_open" and self._probes < self.policy.half_open_probes
        )

    def acquire(self) -> bool:
        """Reserve the right to call; every ``True`` must be followed by ``record_*`` or
        :meth:`release`."""
        state = self.state
        if state == "closed":
            return True
        if state == "half_open" and self._probes < self.policy.half_open_probes:
            self._probes += 1
            return True
        return False

    def release(self) -> None:
        """Give back a probe slot without a verdict (the call was cancelled)."""
        if self._state == "half_open" and self._probes > 0:
            self._probes -= 1

    def record_success(self) -> None:
        """A call succeeded: a half-open breaker closes.

        A closed breaker keeps counting the failures of its window: a deployment failing one call
        in two must still open it, so successes in between do not reset the count.
        """
        if self._state != "closed":
            self._set("closed")
            self._probes = 0
            self._failures.clear()

    def record_failure(self) -> None:
        """A call failed: a half-open breaker reopens; a closed one opens at N failures."""
        now = self._clock()
        if self._state == "half_open":
            self._open(now)
            return
        if self._state == "open":
            return
        failures = self._failures
        failures.append(now)
        horizon = now - self.policy.window_s
        while failures and failures[0] <= horizon:
            failures.popleft()
        if len(failures) >= self.policy.failures:
            self._open(now)

    def snapshot(self) -> dict[str, object]:
        """State for the admin API."""
        state = self.state
        now = self._clock()
        horizon = now - self.policy.window_s
        recent = sum(1 for t in self._failures if t > horizon)
        half_open_in = (
            max(0.0, self.policy.open_s - (now - self._opened_at)) if state == "open" else None
        )
        return {
            "state": state,
            "recent_failures": recent,
            "half_open_in_s": half_open_in,
            "transitions": self.transitions,
        }

    def _open(self, now: float) -> None:
        self._set("open")
        self._opened_at = now
        self._probes = 0
        self._failures.clear()

    def _set(self, state: BreakerState) -> None:
        if state != self._state:
            self._state = state
            self.transitions += 1
            if self._on_change is not None:
                self._on_change(state)
