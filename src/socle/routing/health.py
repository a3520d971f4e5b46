"""What the router has observed about each deployment: breaker, latency, attempt counts.

Everything here is in-process memory updated on the hot path with plain arithmetic; Prometheus
reads it only when scraped (see :mod:`socle.routing.metrics`).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable

from socle.routing.breaker import CircuitBreaker
from socle.routing.config import BreakerPolicy


class DeploymentHealth:
    """Breaker, latency averages and attempt counts of one deployment."""

    __slots__ = ("alpha", "attempts", "breaker", "latency_ms", "ttft_ms")

    def __init__(self, policy: BreakerPolicy, alpha: float, clock: Callable[[], float]) -> None:
        self.breaker = CircuitBreaker(policy, clock)
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
    """The health of every deployment, kept across catalog replacements by deployment id."""

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

    def sync(self, deployment_ids: Iterable[str]) -> dict[str, DeploymentHealth]:
        """Keep the health of deployments still present, start fresh for new ones."""
        ids = list(deployment_ids)
        fresh = {
            i: self.by_id.get(i) or DeploymentHealth(self.policy, self.alpha, self.clock)
            for i in ids
        }
        self.by_id = fresh
        return fresh

    def get(self, deployment_id: str) -> DeploymentHealth:
        """The health of a deployment, created on first use."""
        health = self.by_id.get(deployment_id)
        if health is None:
            health = DeploymentHealth(self.policy, self.alpha, self.clock)
            self.by_id[deployment_id] = health
        return health
