"""A project's routing policy: where its data may go and how to choose among the allowed places.

The authenticate stage puts the project's settings on the request context; ``settings["routing"]``
holds this policy::

    routing:
      allowed_jurisdictions: [FR, EU]       # empty or absent: any
      allowed_locations: [on_prem, sovereign_cloud]
      required_certifications: [secnumcloud]  # a deployment must hold all of them
      strategy: cost                        # priority | cost | latency | weighted

The settings dict of a project is the same object for every request until the project changes,
so parsed policies are cached by the identity of that dict.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast, get_args

from socle.pipeline.errors import GatewayError
from socle.routing.catalog import LOCATIONS, Strategy

STRATEGIES: frozenset[str] = frozenset(get_args(Strategy))
_CACHE_SIZE = 4096
# "EU" in a policy means the Union itself and every member state (ISO 3166-1 alpha-2).
# fmt: off
EU_MEMBERS: frozenset[str] = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
})
# fmt: on


class PolicyError(GatewayError):
    """A project's routing settings are invalid (an operator error, not the client's)."""

    status = 500
    type = "server_error"
    code = "invalid_routing_policy"


@dataclass(frozen=True, slots=True)
class ProjectPolicy:
    """Restrictions a project puts on the deployments its requests may use."""

    jurisdictions: frozenset[str] | None = None  # None: any
    locations: frozenset[str] | None = None
    certifications: frozenset[str] = frozenset()
    strategy: Strategy | None = None

    @classmethod
    def parse(cls, settings: Mapping[str, Any]) -> ProjectPolicy:
        """Build the policy from ``settings["routing"]``; raises :class:`PolicyError`."""
        unknown = set(settings) - {
            "allowed_jurisdictions",
            "allowed_locations",
            "required_certifications",
            "strategy",
        }
        if unknown:
            raise PolicyError(f"project routing policy: unknown keys {sorted(unknown)}")
        locations = _names(settings, "allowed_locations", str.lower)
        if locations is not None and not locations <= set(LOCATIONS):
            bad = sorted(locations - set(LOCATIONS))
            raise PolicyError(f"project routing policy: unknown locations {bad}")
        strategy = settings.get("strategy")
        if strategy is not None and strategy not in STRATEGIES:
            raise PolicyError(f"project routing policy: unknown strategy {strategy!r}")
        jurisdictions = _names(settings, "allowed_jurisdictions", str.upper)
        if jurisdictions is not None and "EU" in jurisdictions:
            jurisdictions = jurisdictions | EU_MEMBERS
        return cls(
            jurisdictions=jurisdictions,
            locations=locations,
            certifications=_names(settings, "required_certifications", str.lower) or frozenset(),
            strategy=cast("Strategy | None", strategy),
        )


def _names(
    settings: Mapping[str, Any], key: str, norm: Callable[[str], str]
) -> frozenset[str] | None:
    value = settings.get(key)
    if value is None or value == []:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise PolicyError(f"project routing policy: {key} must be a list of strings")
    return frozenset(norm(v.strip()) for v in value)


UNRESTRICTED = ProjectPolicy()


class PolicyCache:
    """Parsed policies keyed by the identity of the project's ``routing`` settings.

    An entry keeps a reference to the settings object (so its ``id`` cannot be reused while the
    entry lives) and a deep copy that is compared on every hit (so an in-place edit is seen).
    """

    def __init__(self) -> None:
        self._entries: dict[int, tuple[object, object, ProjectPolicy]] = {}

    def get(self, project_settings: Mapping[str, Any]) -> ProjectPolicy:
        """The project's routing policy."""
        routing = project_settings.get("routing")
        if not routing:
            return UNRESTRICTED
        entry = self._entries.get(id(routing))
        if entry is not None and entry[0] is routing and entry[1] == routing:
            return entry[2]
        if not isinstance(routing, Mapping):
            raise PolicyError("project routing policy must be a mapping")
        policy = ProjectPolicy.parse(routing)
        if len(self._entries) >= _CACHE_SIZE:
            self._entries.clear()
        self._entries[id(routing)] = (routing, copy.deepcopy(routing), policy)
        return policy
