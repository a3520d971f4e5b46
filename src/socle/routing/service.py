"""The routing capability assembled for the gateway: router, stages and dispatcher together."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry

from socle.providers.base import Provider
from socle.routing.catalog import Catalog
from socle.routing.config import RoutingConfig
from socle.routing.dispatcher import Dispatcher
from socle.routing.metrics import RoutingCollector, register_routing_metrics
from socle.routing.router import Router
from socle.routing.stage import ClassifyStage, RouteStage


class RoutingService:
    """What the runtime wires: ``classify_stage``, ``route_stage``, ``dispatcher`` (the call
    stage) and ``router`` (live state and admin operations)."""

    def __init__(self, config: RoutingConfig, providers: Mapping[str, Provider]) -> None:
        self.router = Router(config)
        self.classify_stage = ClassifyStage(config.default_classification)
        self.route_stage = RouteStage(self.router)
        self.dispatcher = Dispatcher(self.router, providers)

    def catalog(self) -> Catalog:
        """The current catalog (it changes when the admin API replaces it)."""
        return self.router.table.catalog

    def register_metrics(self, registry: CollectorRegistry | None = None) -> RoutingCollector:
        """Expose breaker states, attempts and latencies on a Prometheus registry."""
        return register_routing_metrics(self.router, registry)


def build_routing(config: RoutingConfig, providers: Mapping[str, Provider]) -> RoutingService:
    """Build the routing capability from its configuration and the provider registry."""
    return RoutingService(config, providers)
