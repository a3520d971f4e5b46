"""What the router has observed about each deployment: breaker, latency, attempt counts.

Everything here is in-process memory updated on the hot path with plain arithmetic; Prometheus
reads it only when scraped (see :mod:`socle.routing.metrics`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable

from socle.routing.breaker import BreakerState, CircuitBreaker
from socle.routing.config import BreakerPolicy


class DeploymentHealth:
    """Breaker, latency averages and attempt counts of one deployment."""

    __slots__ = ("alpha", "attempts", "breaker", "latency_ms", "ttft_ms")

    def __init__(
        self,
        policy: BreakerPolicy,
        alpha: float,
        clock: Callable[[], float],
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.breaker = CircuitBreaker(policy, clock, on_change)
        self.alpha = alpha
        self.latency_ms: float | None = None  # EWMA of complete non-streaming calls
        self.ttft_ms: float | None = None  # EWMA of time to first chunk of streams
        self.attempts: Counter[str] = Counter()  # outcome → count

    def observe_latency(self, ms: float) -> None:
        """Fold one complete call's latency into the average."""
        old = self.latency_ms
        self.latency_ms = ms if old is None else old + self.alpha * (ms - old)

    def observe_ttft(self, ms: float) -> None:
        """Fold one stream's time to first chunk into the average."""
        old = self.ttft_ms
        self.ttft_ms = ms if old is None else old + self.alpha * (ms - old)

    def expected_ms(self, stream: bool) -> float:
        """The latency the latency strategy sorts by; 0 when never observed, so that a new
        deployment gets tried and measured."""
        first, second = (
            (self.ttft_ms, self.latency_ms) if stream else (self.latency_ms, self.ttft_ms)
        )
        if first is not None:
            return first
        return second if second is not None else 0.0


class HealthBoard:
    """The health of every deployment, kept across catalog replacements by deployment id.

    ``degraded`` holds the ids whose breaker is not closed, so that the router skips breaker
    checks altogether while every breaker is closed (the usual case).
    """

    def __init__(
        self,
        policy: BreakerPolicy,
        alpha: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.policy = policy
        self.alpha = alpha
        self.clock = clock
        self.by_id: dict[str, DeploymentHealth] = {}
        self.degraded: set[str] = set()

    def sync(self, deployment_ids: Iterable[str]) -> None:
        """Keep the health of deployments still present, start fresh for new ones."""
        ids = list(deployment_ids)
        self.by_id = {i: self.by_id.get(i) or self._new(i) for i in ids}
        self.degraded &= set(ids)

    def get(self, deployment_id: str) -> DeploymentHealth:
        """The health of a deployment, created on first use."""
        health = self.by_id.get(deployment_id)
        if health is None:
            health = self._new(deployment_id)
            self.by_id[deployment_id] = health
        return health

    def _new(self, deployment_id: str) -> DeploymentHealth:
        def on_change(state: BreakerState) -> None:
            if state == "closed":
                self.degraded.discard(deployment_id)
            else:
                self.degraded.add(deployment_id)

        return DeploymentHealth(self.policy, self.alpha, self.clock, on_change)
