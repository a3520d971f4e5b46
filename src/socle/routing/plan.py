"""The routing decision for one request: which deployments may serve it, in which order, and why
the others were left out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from socle.pipeline.context import Attempt, Classification
from socle.routing.catalog import LOCATIONS, Deployment, Strategy


@dataclass(slots=True)
class RoutePlan:
    """Set on ``ctx.route`` by the route stage and executed by the dispatcher.

    ``candidates`` are allowed deployments in try order; ``dropped`` maps every other deployment
    that was considered to the reason it was left out (shared between requests: read-only).
    ``attempts`` is the request context's attempt list, filled in by the dispatcher.
    """

    model: str
    version: str | None
    classification: Classification
    strategy: Strategy
    candidates: list[Deployment]
    dropped: Mapping[str, str]
    locations: frozenset[str]  # where this classification and policy allow data to go
    stream: bool = False
    attempts: list[Attempt] = field(default_factory=list)

    def to_audit(self) -> dict[str, Any]:
        """The decision as a JSON-ready dict for the audit record."""
        return {
            "model": self.model,
            "version": self.version,
            "classification": self.classification.label,
            "strategy": self.strategy,
            "candidates": [d.id for d in self.candidates],
            "dropped": dict(self.dropped),
            "attempts": [
                {
                    "deployment": a.deployment,
                    "outcome": a.outcome,
                    "status": a.status,
                    "latency_ms": round(a.latency_ms, 3),
                    "detail": a.detail,
                }
                for a in self.attempts
            ],
        }

    def where(self) -> str:
        """The allowed locations as they appear in error messages, e.g. ``on_prem``."""
        return "/".join(loc for loc in LOCATIONS if loc in self.locations) or "no"
