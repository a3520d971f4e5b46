"""Prometheus metrics of the router, read from its in-memory health board at scrape time.

Nothing is updated in Prometheus objects on the hot path: the dispatcher counts in plain dicts and
this collector turns them into metric families when ``/metrics`` is scraped. Register it on the
registry the gateway exposes::

    register_routing_metrics(router, registry)   # registry defaults to prometheus_client.REGISTRY

Metrics (labels ``deployment``, ``model``, ``location``):

- ``socle_deployment_breaker_state``: 0 closed, 1 half_open, 2 open
- ``socle_deployment_breaker_transitions_total``
- ``socle_deployment_attempts_total`` (extra label ``outcome``: ok, error, timeout,
  rate_limited, breaker_open, refused)
- ``socle_deployment_latency_seconds`` (extra label ``kind``: complete or ttft): the EWMA the
  latency strategy uses
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from socle.routing.breaker import STATE_VALUES
from socle.routing.router import Router


class RoutingCollector(Collector):
    """Exposes breaker states, attempt counts and latency averages of every deployment."""

    def __init__(self, router: Router) -> None:
        self.router = router

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        labels = ["deployment", "model", "location"]
        state = GaugeMetricFamily(
            "socle_deployment_breaker_state",
            "Circuit breaker state: 0 closed, 1 half_open, 2 open.",
            labels=labels,
        )
        transitions = CounterMetricFamily(
            "socle_deployment_breaker_transitions",
            "Circuit breaker state changes.",
            labels=labels,
        )
        attempts = CounterMetricFamily(
            "socle_deployment_attempts",
            "Upstream tries by outcome.",
            labels=[*labels, "outcome"],
        )
        latency = GaugeMetricFamily(
            "socle_deployment_latency_seconds",
            "EWMA of observed latency (complete calls) and time to first chunk (streams).",
            labels=[*labels, "kind"],
        )
        table = self.router.table
        for model in table.catalog.models.values():
            for deployment in model.deployments:
                health = self.router.health.get(deployment.id)
                values = [deployment.id, model.name, deployment.location]
                state.add_metric(values, STATE_VALUES[health.breaker.state])
                transitions.add_metric(values, health.breaker.transitions)
                for outcome, count in health.attempts.items():
                    attempts.add_metric([*values, outcome], count)
                if health.latency_ms is not None:
                    latency.add_metric([*values, "complete"], health.latency_ms / 1000.0)
                if health.ttft_ms is not None:
                    latency.add_metric([*values, "ttft"], health.ttft_ms / 1000.0)
        yield from (state, transitions, attempts, latency)


def register_routing_metrics(
    router: Router, registry: CollectorRegistry | None = None
) -> RoutingCollector:
    """Register the router's collector (on the default registry unless one is given)."""
    collector = RoutingCollector(router)
    (registry if registry is not None else REGISTRY).register(collector)
    return collector
