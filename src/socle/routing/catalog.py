"""The model catalog: logical model names mapped to deployments with governance attributes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_serializer,
    field_validator,
    model_validator,
)

from socle.accounting.prices import Pricing
from socle.pipeline.context import Classification
from socle.providers.endpoint import Endpoint

Location = Literal["on_prem", "edge", "sovereign_cloud", "public_cloud"]
ModelKind = Literal["chat", "embeddings"]
Strategy = Literal["priority", "cost", "latency", "weighted"]

LOCATIONS: tuple[Location, ...] = ("on_prem", "edge", "sovereign_cloud", "public_cloud")
# Locations that stay inside the organisation's network: the only ones allowed when offline.
LOCAL_LOCATIONS: frozenset[str] = frozenset({"on_prem", "edge"})


class Deployment(BaseModel):
    """One concrete place a logical model runs: an endpoint plus where it is and what it may see."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    endpoint: Endpoint
    location: Location = "on_prem"
    jurisdiction: str = Field("FR", min_length=2, max_length=8)
    certifications: frozenset[str] = frozenset()
    max_classification: Classification = Classification.SECRET
    pricing: Pricing = Field(default_factory=Pricing)
    active_params_b: float | None = Field(
        None, gt=0, description="Active parameters in billions (carbon estimate)."
    )
    weight: float = Field(1.0, ge=0)
    priority: int = Field(0, description="Lower is tried first by the priority strategy.")
    enabled: bool = Field(True, description="A disabled deployment is kept but never routed to.")

    @field_validator("max_classification", mode="before")
    @classmethod
    def _parse_classification(cls, value: object) -> object:
        return Classification.parse(value) if isinstance(value, str) else value

    @field_validator("jurisdiction")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @field_validator("certifications", mode="after")
    @classmethod
    def _lower(cls, value: frozenset[str]) -> frozenset[str]:
        # Policies compare certifications case-insensitively ("SecNumCloud" == "secnumcloud").
        return frozenset(c.strip().lower() for c in value)

    @field_serializer("max_classification")
    def _dump_classification(self, value: Classification) -> str:
        return value.label

    @field_serializer("certifications")
    def _dump_certifications(self, value: frozenset[str]) -> list[str]:
        return sorted(value)

    @property
    def is_local(self) -> bool:
        """True when the deployment runs inside the organisation (on_prem or edge)."""
        return self.location in LOCAL_LOCATIONS


class LogicalModel(BaseModel):
    """What clients ask for (``model`` in the request) and the deployments that can serve it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
    kind: ModelKind = "chat"
    description: str = ""
    owned_by: str = "socle"
    deployments: tuple[Deployment, ...] = Field(min_length=1)
    strategy: Strategy | None = Field(
        None, description="Overrides the router's default strategy for this model."
    )

    @model_validator(mode="after")
    def _unique_ids(self) -> LogicalModel:
        ids = [d.id for d in self.deployments]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate deployment id in model {self.name}")
        return self


_MODELS_ADAPTER: TypeAdapter[list[LogicalModel]] = TypeAdapter(list[LogicalModel])


class Catalog:
    """Logical models by name; immutable snapshot, replaced whole when the catalog changes."""

    def __init__(self, models: Iterable[LogicalModel]) -> None:
        self.models: dict[str, LogicalModel] = {}
        self._by_deployment: dict[str, tuple[LogicalModel, Deployment]] = {}
        for model in models:
            if model.name in self.models:
                raise ValueError(f"model {model.name!r} is defined twice")
            for deployment in model.deployments:
                if deployment.id in self._by_deployment:
                    raise ValueError(f"deployment id {deployment.id!r} is used twice")
                self._by_deployment[deployment.id] = (model, deployment)
            self.models[model.name] = model

    def get(self, name: str) -> LogicalModel | None:
        return self.models.get(name)

    def deployments(self) -> list[Deployment]:
        return [d for m in self.models.values() for d in m.deployments]

    def deployment(self, deployment_id: str) -> Deployment | None:
        """The deployment with this id, in any model."""
        found = self._by_deployment.get(deployment_id)
        return found[1] if found else None

    def model_of(self, deployment_id: str) -> LogicalModel | None:
        """The logical model that owns this deployment."""
        found = self._by_deployment.get(deployment_id)
        return found[0] if found else None

    def to_data(self) -> list[dict[str, Any]]:
        """A JSON-serialisable form (what the admin API stores); inverse of :meth:`from_data`."""
        return [m.model_dump(mode="json") for m in self.models.values()]

    @classmethod
    def from_data(cls, data: object) -> Catalog:
        """Validate a serialised catalog (a list of logical models); raises ``ValueError``."""
        return cls(_MODELS_ADAPTER.validate_python(data))
