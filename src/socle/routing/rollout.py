"""Canary splits and wave rollouts: which version of a logical model serves a request.

A :class:`Rollout` splits one logical model's traffic between *versions*. A version is either a
subset of the model's own deployments or another logical model. Each request is put in a bucket
``0 ≤ b < 10 000`` by a stable hash (BLAKE2b) of the sticky identity (API key or ``user``) and the
model name, so the same caller keeps the same version while the split does not change, and
changing a percentage moves only the callers whose bucket crosses the new boundary.

Waves let a new version reach chosen teams or projects first: members of waves ``1..active_wave``
get ``wave_version`` whatever their bucket; everyone else follows the percentage split.
"""

from __future__ import annotations

from bisect import bisect_right
from hashlib import blake2b
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

BUCKETS = 10_000
_BUCKET_CACHE = 65_536
StickyBy = Literal["key", "user"]


class RolloutVersion(BaseModel):
    """One version of a logical model and its share of traffic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=64)
    percent: float = Field(ge=0, le=100)
    deployments: tuple[str, ...] = Field(
        default=(), description="Deployment ids of the rolled-out model serving this version."
    )
    model: str | None = Field(None, description="Another logical model serving this version.")

    @model_validator(mode="after")
    def _one_target(self) -> RolloutVersion:
        if bool(self.deployments) == bool(self.model):
            raise ValueError(f"version {self.name!r}: set either deployments or model")
        return self


class WaveMembers(BaseModel):
    """Who belongs to one rollout wave."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    teams: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()


class Rollout(BaseModel):
    """How one logical model's traffic is split between versions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str = Field(min_length=1, description="The logical model clients ask for.")
    versions: tuple[RolloutVersion, ...] = Field(min_length=1)
    sticky_by: StickyBy = "key"
    waves: dict[int, WaveMembers] = Field(default_factory=dict)
    wave_version: str | None = Field(None, description="The version that waves roll out.")
    active_wave: int = Field(0, ge=0, description="Waves 1..active_wave get wave_version.")
    fallback_across_versions: bool = Field(
        True, description="When the chosen version fails, try the other versions' deployments."
    )

    @model_validator(mode="after")
    def _check(self) -> Rollout:
        names = [v.name for v in self.versions]
        if len(names) != len(set(names)):
            raise ValueError(f"rollout {self.model}: duplicate version name")
        total = sum(v.percent for v in self.versions)
        if abs(total - 100.0) > 1e-6:
            raise ValueError(f"rollout {self.model}: percentages add up to {total:g}, not 100")
        if self.wave_version is not None and self.wave_version not in names:
            raise ValueError(f"rollout {self.model}: wave_version {self.wave_version!r} unknown")
        if any(w < 1 for w in self.waves):
            raise ValueError(f"rollout {self.model}: wave numbers start at 1")
        if self.waves and self.wave_version is None:
            raise ValueError(f"rollout {self.model}: waves need a wave_version")
        return self


def sticky_bucket(model: str, identity: str) -> int:
    """The caller's stable bucket in ``[0, BUCKETS)`` for this model (same on every replica)."""
    digest = blake2b(f"{model}\x00{identity}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % BUCKETS


class CompiledRollout:
    """A rollout ready for the hot path: cumulative bucket bounds and a wave lookup table."""

    __slots__ = ("_bounds", "_buckets", "_names", "_project_wave", "_team_wave", "rollout")

    def __init__(self, rollout: Rollout) -> None:
        self.rollout = rollout
        bounds: list[int] = []
        names: list[str] = []
        cumulative = 0.0
        for version in rollout.versions:
            if version.percent <= 0:
                continue
            cumulative += version.percent
            bounds.append(round(cumulative * BUCKETS / 100))
            names.append(version.name)
        bounds[-1] = BUCKETS  # rounding must never leave a bucket without a version
        self._bounds = bounds
        self._names = names
        self._buckets: dict[str, int] = {}  # identity → bucket: hashing costs more than a lookup
        self._team_wave: dict[str, int] = {}
        self._project_wave: dict[str, int] = {}
        # A member listed in several waves belongs to the earliest one.
        for wave in sorted(rollout.waves, reverse=True):
            members = rollout.waves[wave]
            self._team_wave.update(dict.fromkeys(members.teams, wave))
            self._project_wave.update(dict.fromkeys(members.projects, wave))

    def wave_of(
        self, project_id: str | None, team_id: str | None, project_wave: int | None
    ) -> int | None:
        """The caller's wave: the project's own setting first, then the rollout's lists."""
        if project_wave is not None:
            return project_wave
        if project_id is not None and project_id in self._project_wave:
            return self._project_wave[project_id]
        if team_id is not None:
            return self._team_wave.get(team_id)
        return None

    def choose(self, identity: str, wave: int | None) -> str:
        """The version name that serves this caller."""
        rollout = self.rollout
        if (
            rollout.wave_version is not None
            and wave is not None
            and 1 <= wave <= rollout.active_wave
        ):
            return rollout.wave_version
        bucket = self._buckets.get(identity)
        if bucket is None:
            bucket = sticky_bucket(rollout.model, identity)
            if len(self._buckets) >= _BUCKET_CACHE:
                self._buckets.clear()
            self._buckets[identity] = bucket
        return self._names[bisect_right(self._bounds, bucket)]
