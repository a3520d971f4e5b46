"""An immutable, precompiled routing snapshot: the catalog, its rollouts and the filtered
candidate sets, cached per (model, version, classification, project policy).

The router swaps a whole table when the catalog or a rollout changes, so a request in flight keeps
the table it started with and no lock is needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from socle.pipeline.context import Classification
from socle.routing.catalog import LOCAL_LOCATIONS, Catalog, Deployment, LogicalModel
from socle.routing.policy import ProjectPolicy
from socle.routing.rollout import CompiledRollout, Rollout
from socle.routing.strategy import Ordering

_CACHE_SIZE = 65_536


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """The allowed deployments of one (model, version, classification, policy), split into the
    chosen version's (``primary``) and, for rollouts that fall back across versions, the other
    versions' (``secondary``)."""

    primary: Ordering
    secondary: Ordering | None
    dropped: Mapping[str, str]
    locations: frozenset[str]

    @property
    def empty(self) -> bool:
        return not self.primary.deployments and not (self.secondary and self.secondary.deployments)


class RoutingTable:
    """The compiled catalog and rollouts, with a cache of filtered candidate sets."""

    def __init__(
        self,
        catalog: Catalog,
        rollouts: Iterable[Rollout],
        *,
        offline: bool,
        classification_locations: Mapping[Classification, frozenset[str]],
    ) -> None:
        self.catalog = catalog
        self.rollouts: dict[str, CompiledRollout] = {r.model: CompiledRollout(r) for r in rollouts}
        self.offline = offline
        self._locations = {
            c: frozenset(locs & LOCAL_LOCATIONS) if offline else frozenset(locs)
            for c, locs in classification_locations.items()
        }
        self._entries: dict[tuple[str, str | None, Classification, ProjectPolicy], RouteEntry] = {}

    def entry(
        self,
        model: LogicalModel,
        version: str | None,
        classification: Classification,
        policy: ProjectPolicy,
    ) -> RouteEntry:
        """The candidates for this model version, classification and project policy."""
        key = (model.name, version, classification, policy)
        found = self._entries.get(key)
        if found is None:
            found = self._compile(model, version, classification, policy)
            if len(self._entries) >= _CACHE_SIZE:
                self._entries.clear()
            self._entries[key] = found
        return found

    def drop_reason(
        self, deployment: Deployment, classification: Classification, policy: ProjectPolicy
    ) -> str | None:
        """Why this deployment may not receive this request, or ``None`` if it may."""
        label = classification.label
        if not deployment.enabled:
            return "disabled"
        if self.offline and not deployment.is_local:
            return f"offline mode: location {deployment.location} is not on_prem or edge"
        if deployment.location not in self._locations[classification]:
            return f"location {deployment.location} not allowed for classification={label}"
        if deployment.max_classification < classification:
            return (
                f"max_classification={deployment.max_classification.label}"
                f" below classification={label}"
            )
        if policy.locations is not None and deployment.location not in policy.locations:
            return f"project policy: location {deployment.location} not allowed"
        if policy.jurisdictions is not None and deployment.jurisdiction not in policy.jurisdictions:
            return f"project policy: jurisdiction {deployment.jurisdiction} not allowed"
        missing = policy.certifications - deployment.certifications
        if missing:
            return f"project policy: missing certification {', '.join(sorted(missing))}"
        return None

    def _compile(
        self,
        model: LogicalModel,
        version: str | None,
        classification: Classification,
        policy: ProjectPolicy,
    ) -> RouteEntry:
        dropped: dict[str, str] = {}
        primary_targets, secondary_targets = self._targets(model, version, dropped)

        def allowed(targets: list[Deployment]) -> tuple[Deployment, ...]:
            kept = []
            for deployment in targets:
                reason = self.drop_reason(deployment, classification, policy)
                if reason is None:
                    kept.append(deployment)
                else:
                    dropped[deployment.id] = reason
            return tuple(kept)

        primary = Ordering(allowed(primary_targets))
        secondary = Ordering(allowed(secondary_targets)) if secondary_targets else None
        locations = self._locations[classification]
        if policy.locations is not None:
            locations = locations & policy.locations
        return RouteEntry(primary, secondary, MappingProxyType(dropped), locations)

    def _targets(
        self, model: LogicalModel, version: str | None, dropped: dict[str, str]
    ) -> tuple[list[Deployment], list[Deployment]]:
        """The deployments of the chosen version and of the fallback versions."""
        rollout = self.rollouts.get(model.name)
        if rollout is None or version is None:
            return list(model.deployments), []
        primary: list[Deployment] = []
        secondary: list[Deployment] = []
        seen: set[str] = set()
        chosen_first = sorted(rollout.rollout.versions, key=lambda v: v.name != version)
        for spec in chosen_first:
            if spec.model is not None:
                target = self.catalog.get(spec.model)
                deployments = list(target.deployments) if target else []
            else:
                deployments = [d for d in model.deployments if d.id in spec.deployments]
            for deployment in deployments:
                if deployment.id in seen:
                    continue
                seen.add(deployment.id)
                if spec.name == version:
                    primary.append(deployment)
                elif rollout.rollout.fallback_across_versions:
                    secondary.append(deployment)
                else:
                    dropped[deployment.id] = f"rollout: version {version} serves this request"
        for deployment in model.deployments:
            if deployment.id not in seen:
                dropped[deployment.id] = "rollout: not in any version"
        return primary, secondary
