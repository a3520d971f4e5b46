"""Routing configuration: the catalog, strategies, retries, circuit breaker, rollouts, offline mode.

``RoutingConfig`` is the ``routing:`` section of ``socle.yaml``. It is validated once at start-up
(and again when the admin API replaces the catalog or a rollout) with messages naming the bad key.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socle.accounting.prices import Pricing
from socle.pipeline.context import Classification
from socle.providers.endpoint import Endpoint
from socle.routing.catalog import (
    LOCATIONS,
    Catalog,
    Deployment,
    Location,
    LogicalModel,
    Strategy,
)
from socle.routing.rollout import Rollout


class RetryPolicy(BaseModel):
    """How often and how patiently the call stage retries and falls back."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(4, ge=1, le=20, description="Tries per request, all deployments.")
    max_tries_per_deployment: int = Field(2, ge=1, le=10)
    backoff_base_s: float = Field(0.2, ge=0, description="First backoff before a retry round.")
    backoff_max_s: float = Field(5.0, ge=0, description="Cap of one backoff sleep.")
    jitter: float = Field(
        0.5, ge=0, le=1, description="Fraction of the backoff drawn at random (1 = full jitter)."
    )
    deadline_s: float = Field(
        600.0, gt=0, description="Per request: all tries (streams: until the first chunk)."
    )


class BreakerPolicy(BaseModel):
    """When a deployment's circuit breaker opens and how it recovers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failures: int = Field(5, ge=1, description="Failures within window_s that open the breaker.")
    window_s: float = Field(30.0, gt=0)
    open_s: float = Field(30.0, gt=0, description="How long it stays open before probing.")
    half_open_probes: int = Field(1, ge=1, description="Concurrent trial calls when half-open.")
    count_rate_limited: bool = Field(True, description="Count upstream 429s as failures.")


def _default_locations() -> dict[Classification, frozenset[Location]]:
    every = frozenset(LOCATIONS)
    return {
        Classification.PUBLIC: every,
        Classification.INTERNAL: every,
        Classification.CONFIDENTIAL: frozenset(("on_prem", "edge", "sovereign_cloud")),
        Classification.SECRET: frozenset(("on_prem",)),
    }


def _simulator(
    deployment_id: str, upstream: str, *, input_price: float, output_price: float
) -> Deployment:
    return Deployment(
        id=deployment_id,
        endpoint=Endpoint(provider="simulator", upstream_model=upstream),
        location="on_prem",
        jurisdiction="FR",
        max_classification=Classification.SECRET,
        pricing=Pricing(input_per_mtok=input_price, output_per_mtok=output_price),
        active_params_b=_SIMULATED_SIZES_B.get(upstream),
    )


# Sizes the simulator stands for (so that energy and carbon estimates show figures): a small
# 8B-class model, a large 70B-class model and a small embedding model.
_SIMULATED_SIZES_B = {
    "sim-small": 8.0,
    "sim-slow": 8.0,
    "sim-flaky": 8.0,
    "sim-large": 70.0,
    "sim-embed": 0.3,
}


def default_models() -> list[LogicalModel]:
    """The built-in catalog: simulator models only, so Socle runs with no model and no network.

    Prices are illustrative (an amortised on-prem cost) so that FinOps screens show numbers.
    """
    small = {"input_price": 0.10, "output_price": 0.30}
    return [
        LogicalModel(
            name="chat-default",
            description="Default chat model (simulator).",
            deployments=(_simulator("chat-default-sim", "sim-small", **small),),
        ),
        LogicalModel(
            name="sim-small",
            description="Small simulated chat model.",
            deployments=(_simulator("sim-small", "sim-small", **small),),
        ),
        LogicalModel(
            name="sim-large",
            description="Large simulated chat model.",
            deployments=(_simulator("sim-large", "sim-large", input_price=0.5, output_price=1.5),),
        ),
        LogicalModel(
            name="sim-slow",
            description="Simulated chat model with added latency.",
            deployments=(_simulator("sim-slow", "sim-slow", **small),),
        ),
        LogicalModel(
            name="sim-flaky",
            description="Fails about 20% of calls with 503; falls back to sim-small.",
            deployments=(
                _simulator("sim-flaky", "sim-flaky", **small),
                _simulator("sim-flaky-fallback", "sim-small", **small).model_copy(
                    update={"priority": 1}
                ),
            ),
        ),
        LogicalModel(
            name="text-embedding-sim",
            kind="embeddings",
            description="Simulated embedding model.",
            deployments=(_simulator("sim-embed", "sim-embed", input_price=0.02, output_price=0.0),),
        ),
    ]


class RoutingConfig(BaseModel):
    """The ``routing:`` section of ``socle.yaml``."""

    model_config = ConfigDict(extra="forbid")

    offline: bool = Field(False, description="Air-gapped: only on_prem and edge deployments.")
    strategy: Strategy = Field("priority", description="Default strategy of every model.")
    default_classification: Classification = Field(
        Classification.INTERNAL, description="When neither the request nor the project sets one."
    )
    classification_locations: dict[Classification, frozenset[Location]] = Field(
        default_factory=_default_locations,
        description="Locations allowed to receive each classification.",
    )
    latency_alpha: float = Field(0.2, gt=0, le=1, description="EWMA weight of a new latency.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = Field(default_factory=BreakerPolicy)
    rollouts: list[Rollout] = Field(default_factory=list)
    models: list[LogicalModel] = Field(
        default_factory=list, description="The catalog; the simulator models when empty."
    )

    @field_validator("default_classification", mode="before")
    @classmethod
    def _parse_default(cls, value: object) -> object:
        return Classification.parse(value) if isinstance(value, str) else value

    @field_validator("classification_locations", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        if isinstance(value, dict):
            return {
                Classification.parse(k) if isinstance(k, str) else k: v for k, v in value.items()
            }
        return value

    @model_validator(mode="after")
    def _check(self) -> RoutingConfig:
        table = self.classification_locations
        missing = [c.label for c in Classification if c not in table]
        if missing:
            raise ValueError(f"classification_locations: no entry for {', '.join(missing)}")
        for lower, higher in zip(Classification, list(Classification)[1:], strict=False):
            wider = table[higher] - table[lower]
            if wider:
                # More sensitive data may never go where less sensitive data may not.
                raise ValueError(
                    f"classification_locations: {higher.label} allows {', '.join(sorted(wider))}"
                    f" which {lower.label} does not"
                )
        # Building the catalog checks unique names and ids across models.
        catalog = self.catalog()
        check_offline(catalog, self.offline)
        check_rollouts(catalog, self.rollouts)
        return self

    def catalog(self) -> Catalog:
        """The configured catalog, or the built-in simulator catalog when none is configured."""
        return Catalog(self.models or default_models())


def check_offline(catalog: Catalog, offline: bool) -> None:
    """Refuse any deployment outside on_prem / edge in offline (air-gapped) mode."""
    if not offline:
        return
    remote = [f"{d.id} ({d.location})" for d in catalog.deployments() if not d.is_local]
    if remote:
        raise ValueError(
            "offline: true allows only on_prem and edge deployments; refused: " + ", ".join(remote)
        )


def check_rollouts(catalog: Catalog, rollouts: list[Rollout]) -> None:
    """Check that every rollout names existing models and deployments of a compatible kind."""
    seen: set[str] = set()
    for rollout in rollouts:
        where = f"rollouts[{rollout.model}]"
        if rollout.model in seen:
            raise ValueError(f"{where}: model has two rollouts")
        seen.add(rollout.model)
        model = catalog.get(rollout.model)
        if model is None:
            raise ValueError(f"{where}: unknown model {rollout.model!r}")
        own = {d.id for d in model.deployments}
        for version in rollout.versions:
            if version.model is not None:
                target = catalog.get(version.model)
                if target is None:
                    raise ValueError(f"{where}.{version.name}: unknown model {version.model!r}")
                if target.kind != model.kind:
                    raise ValueError(
                        f"{where}.{version.name}: {version.model} is a {target.kind} model,"
                        f" {model.name} is a {model.kind} model"
                    )
                if version.model == model.name:
                    raise ValueError(
                        f"{where}.{version.name}: use deployments for the model itself"
                    )
            unknown = sorted(set(version.deployments) - own)
            if unknown:
                raise ValueError(
                    f"{where}.{version.name}: {', '.join(unknown)} not deployments of {model.name}"
                )


def dump_rollouts(rollouts: list[Rollout]) -> list[dict[str, Any]]:
    """JSON-serialisable rollouts (for the admin API and its store)."""
    return [r.model_dump(mode="json") for r in rollouts]
