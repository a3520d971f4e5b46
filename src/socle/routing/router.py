"""The router: turns a request into a :class:`RoutePlan` and holds the live routing state.

Live state is an immutable :class:`RoutingTable` (catalog + rollouts, swapped whole by the admin
operations) and a :class:`HealthBoard` (breakers and latencies, kept across swaps by deployment
id). Planning one request is a few dictionary lookups and, for multi-deployment models, an
in-memory sort of a handful of items.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from socle.pipeline.context import RequestContext
from socle.pipeline.errors import InvalidRequest, ModelNotFound, NoRouteAvailable
from socle.routing.catalog import Catalog, Deployment, LogicalModel
from socle.routing.config import RoutingConfig, check_offline, check_rollouts, dump_rollouts
from socle.routing.health import HealthBoard
from socle.routing.plan import RoutePlan
from socle.routing.policy import PolicyCache
from socle.routing.rollout import CompiledRollout, Rollout
from socle.routing.table import RoutingTable

if TYPE_CHECKING:
    from socle.providers.base import Provider
    from socle.routing.service import RoutingService


class Router:
    """Chooses, for each request, the deployments allowed to serve it and their try order."""

    def __init__(
        self,
        config: RoutingConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.config = config or RoutingConfig()
        self.health = HealthBoard(self.config.breaker, self.config.latency_alpha, clock)
        self.policies = PolicyCache()
        self._rand = rand
        self._table = self._build(self.config.catalog(), list(self.config.rollouts))

    # --- live state ---------------------------------------------------------------------------

    @property
    def table(self) -> RoutingTable:
        """The current snapshot (take a local reference; it may be swapped at any await)."""
        return self._table

    @property
    def offline(self) -> bool:
        return self.config.offline

    def replace_catalog(self, catalog: Catalog) -> None:
        """Swap the catalog (admin edit, no restart). Raises ``ValueError`` and changes nothing
        if the catalog breaks offline mode or a rollout."""
        self._table = self._build(catalog, self.rollouts())

    def upsert_model(self, model: LogicalModel) -> None:
        """Add a logical model or replace the one of the same name (validated like the rest)."""
        models = [m for m in self._table.catalog.models.values() if m.name != model.name]
        self.replace_catalog(Catalog([*models, model]))

    def remove_model(self, name: str) -> bool:
        """Remove a logical model; ``False`` if absent. Refused while a rollout uses it."""
        models = list(self._table.catalog.models.values())
        kept = [m for m in models if m.name != name]
        if len(kept) == len(models):
            return False
        self.replace_catalog(Catalog(kept))
        return True

    def replace_rollouts(self, rollouts: list[Rollout]) -> None:
        """Swap every rollout at once; raises ``ValueError`` and changes nothing when invalid."""
        self._table = self._build(self._table.catalog, rollouts)

    def set_rollout(self, rollout: Rollout) -> None:
        """Create or replace the rollout of one model (e.g. change a canary split)."""
        others = [r for r in self.rollouts() if r.model != rollout.model]
        self.replace_rollouts([*others, rollout])

    def remove_rollout(self, model: str) -> bool:
        """Remove a model's rollout; ``False`` if it had none."""
        current = self.rollouts()
        kept = [r for r in current if r.model != model]
        if len(kept) == len(current):
            return False
        self.replace_rollouts(kept)
        return True

    def rollouts(self) -> list[Rollout]:
        """The current rollouts."""
        return [c.rollout for c in self._table.rollouts.values()]

    def export(self) -> dict[str, Any]:
        """The editable routing state in JSON form (``models`` and ``rollouts``) for storage."""
        return {"models": self._table.catalog.to_data(), "rollouts": dump_rollouts(self.rollouts())}

    def load(self, data: Mapping[str, Any]) -> None:
        """Replace catalog and rollouts together from :meth:`export`'s form (validated first)."""
        unknown = set(data) - {"models", "rollouts"}
        if unknown:
            raise ValueError(f"unknown routing keys: {', '.join(sorted(unknown))}")
        if not data.get("models"):
            raise ValueError("models: the catalog needs at least one logical model")
        catalog = Catalog.from_data(data["models"])
        rollouts = [Rollout.model_validate(r) for r in data.get("rollouts", [])]
        self._table = self._build(catalog, rollouts)

    def _build(self, catalog: Catalog, rollouts: list[Rollout]) -> RoutingTable:
        check_offline(catalog, self.config.offline)
        check_rollouts(catalog, rollouts)
        table = RoutingTable(
            catalog,
            rollouts,
            offline=self.config.offline,
            classification_locations=self.config.classification_locations,
        )
        self.health.sync(d.id for d in catalog.deployments())
        return table

    # --- planning -----------------------------------------------------------------------------

    def plan(self, ctx: RequestContext) -> RoutePlan:
        """The route for this request; raises :class:`ModelNotFound`, :class:`InvalidRequest`,
        :class:`NoRouteAvailable` or :class:`~socle.routing.policy.PolicyError`."""
        table = self._table
        name = ctx.model or ctx.body.get("model")
        if not isinstance(name, str) or not name:
            raise InvalidRequest("you must provide a model parameter", param="model")
        model = table.catalog.get(name)
        if model is None:
            raise ModelNotFound(
                f"The model `{name}` does not exist or you do not have access to it.",
                param="model",
            )
        wanted = "embeddings" if ctx.endpoint == "embeddings" else "chat"
        if model.kind != wanted:
            raise InvalidRequest(
                f"The model `{name}` is a {model.kind} model; it cannot serve {ctx.endpoint}.",
                param="model",
            )
        policy = self.policies.get(ctx.project_settings)
        strategy = policy.strategy or model.strategy or self.config.strategy
        classification = ctx.classification
        rollout = table.rollouts.get(name)
        version = self._version(rollout, ctx) if rollout is not None else None
        entry = table.entry(model, version, classification, policy)

        health = self.health.by_id
        candidates = entry.primary.order(strategy, health, ctx.stream, self._rand)
        if entry.secondary is not None:
            candidates += entry.secondary.order(strategy, health, ctx.stream, self._rand)
        dropped: Mapping[str, str] = entry.dropped
        principal = ctx.principal
        if principal is not None and not principal.may_use(name):
            # A key pinned to deployment ids rather than to the logical name.
            dropped = dict(dropped)
            kept: list[Deployment] = []
            for deployment in candidates:
                if principal.may_use(deployment.id):
                    kept.append(deployment)
                else:
                    dropped[deployment.id] = "key not allowed"
            candidates = kept

        plan = RoutePlan(
            name,
            version,
            classification,
            strategy,
            candidates,
            dropped,
            entry.locations,
            ctx.stream,
            ctx.attempts,
        )
        if not candidates:
            raise NoRouteAvailable(no_route_message(plan, "allowed", model))
        if self.health.degraded:
            self._breakers_last(plan, model)
        return plan

    def _breakers_last(self, plan: RoutePlan, model: LogicalModel) -> None:
        """Put deployments behind an open breaker last (tried only if one half-opens meanwhile);
        refuse the request if no candidate is left."""
        board = self.health
        closed: list[Deployment] = []
        opened: list[Deployment] = []
        for deployment in plan.candidates:
            (closed if board.get(deployment.id).breaker.available() else opened).append(deployment)
        if not closed:
            raise NoRouteAvailable(no_route_message(plan, "healthy", model, breakers=True))
        if opened:
            plan.candidates = closed + opened

    def _version(self, rollout: CompiledRollout, ctx: RequestContext) -> str:
        principal = ctx.principal
        if principal is None:
            identity = ctx.request_id
            wave = rollout.wave_of(None, None, _wave(ctx))
        else:
            identity = principal.key_id
            if rollout.rollout.sticky_by == "user":
                identity = ctx.user or principal.user_id or principal.key_id
            wave = rollout.wave_of(principal.project_id, principal.team_id, _wave(ctx))
        return rollout.choose(identity, wave)

    # --- observability ------------------------------------------------------------------------

    def deployments_status(self) -> list[dict[str, Any]]:
        """Every deployment with its governance attributes and live health (admin API)."""
        table = self._table
        status = []
        for model in table.catalog.models.values():
            for deployment in model.deployments:
                health = self.health.get(deployment.id)
                status.append(
                    {
                        "id": deployment.id,
                        "model": model.name,
                        "provider": deployment.endpoint.provider,
                        "upstream_model": deployment.endpoint.upstream_model,
                        "location": deployment.location,
                        "jurisdiction": deployment.jurisdiction,
                        "certifications": sorted(deployment.certifications),
                        "max_classification": deployment.max_classification.label,
                        "enabled": deployment.enabled,
                        "breaker": health.breaker.snapshot(),
                        "latency_ms": health.latency_ms,
                        "ttft_ms": health.ttft_ms,
                        "attempts": dict(health.attempts),
                    }
                )
        return status


def _wave(ctx: RequestContext) -> int | None:
    value = ctx.project_settings.get("rollout_wave")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def no_route_message(
    plan: RoutePlan, adjective: str, model: LogicalModel, *, breakers: bool = False
) -> str:
    """Why no deployment can serve the request, e.g. ``no on_prem deployment healthy for
    classification=secret (model `m`: a: circuit breaker open)``."""
    reasons = [f"{i}: {r}" for i, r in plan.dropped.items()]
    if breakers:
        reasons = [f"{d.id}: circuit breaker open" for d in plan.candidates] + reasons
    detail = "; ".join(reasons) if reasons else f"model {model.name} has no deployment"
    return (
        f"no {plan.where()} deployment {adjective} for classification="
        f"{plan.classification.label} (model `{model.name}`: {detail})"
    )


def build_routing(config: RoutingConfig, providers: Mapping[str, Provider]) -> RoutingService:
    """Build the routing capability (router, stages, dispatcher); see :mod:`.service`."""
    from socle.routing.service import build_routing as build

    return build(config, providers)
