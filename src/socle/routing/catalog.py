"""The model catalog: logical model names mapped to deployments with governance attributes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from socle.accounting.prices import Pricing
from socle.pipeline.context import Classification
from socle.providers.endpoint import Endpoint

Location = Literal["on_prem", "edge", "sovereign_cloud", "public_cloud"]
ModelKind = Literal["chat", "embeddings"]


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

    @field_validator("max_classification", mode="before")
    @classmethod
    def _parse_classification(cls, value: object) -> object:
        return Classification.parse(value) if isinstance(value, str) else value

    @field_validator("jurisdiction")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class LogicalModel(BaseModel):
    """What clients ask for (``model`` in the request) and the deployments that can serve it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")
    kind: ModelKind = "chat"
    description: str = ""
    owned_by: str = "socle"
    deployments: tuple[Deployment, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> LogicalModel:
        ids = [d.id for d in self.deployments]
        if len(ids) != len(set(ids)):
            raise ValueError(f"duplicate deployment id in model {self.name}")
        return self


class Catalog:
    """Logical models by name; immutable snapshot, replaced whole when the catalog changes."""

    def __init__(self, models: list[LogicalModel]) -> None:
        self.models: dict[str, LogicalModel] = {}
        seen: set[str] = set()
        for model in models:
            if model.name in self.models:
                raise ValueError(f"model {model.name!r} is defined twice")
            for deployment in model.deployments:
                if deployment.id in seen:
                    raise ValueError(f"deployment id {deployment.id!r} is used twice")
                seen.add(deployment.id)
            self.models[model.name] = model

    def get(self, name: str) -> LogicalModel | None:
        return self.models.get(name)

    def deployments(self) -> list[Deployment]:
        return [d for m in self.models.values() for d in m.deployments]
