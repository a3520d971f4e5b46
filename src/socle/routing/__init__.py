"""Hybrid routing: model catalog, classification, router, retries, circuit breaker, canary.

Public surface (see docs/routing.md):

- :class:`RoutingConfig` — the ``routing:`` section of ``socle.yaml``.
- :class:`Router` — plans routes and holds live state (catalog, rollouts, breakers).
- :class:`ClassifyStage`, :class:`RouteStage` — pipeline stages.
- :class:`Dispatcher` — the call stage: retries, backoff, fallback, breakers.
"""

from socle.routing.catalog import Catalog, Deployment, LogicalModel
from socle.routing.config import BreakerPolicy, RetryPolicy, RoutingConfig, default_models
from socle.routing.dispatcher import Dispatcher
from socle.routing.metrics import RoutingCollector, register_routing_metrics
from socle.routing.plan import RoutePlan
from socle.routing.policy import PolicyError, ProjectPolicy
from socle.routing.rollout import Rollout, RolloutVersion, WaveMembers
from socle.routing.router import Router
from socle.routing.service import RoutingService, build_routing
from socle.routing.stage import ClassifyStage, RouteStage

__all__ = [
    "BreakerPolicy",
    "Catalog",
    "ClassifyStage",
    "Deployment",
    "Dispatcher",
    "LogicalModel",
    "PolicyError",
    "ProjectPolicy",
    "RetryPolicy",
    "Rollout",
    "RolloutVersion",
    "RoutePlan",
    "RouteStage",
    "Router",
    "RoutingCollector",
    "RoutingConfig",
    "RoutingService",
    "WaveMembers",
    "build_routing",
    "default_models",
    "register_routing_metrics",
]
