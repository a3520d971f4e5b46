"""Strategies that put allowed deployments in try order.

- ``priority``: lower ``priority`` first; deployments of equal priority are load-balanced by a
  weighted random order (so two replicas of a model share the traffic by ``weight``).
- ``cost``: cheapest first by the blended price ``(3 × input + output) / 4`` per million tokens
  (a typical 3:1 prompt:completion mix), then ``priority``. Prices are compared as numbers:
  keep one currency per logical model.
- ``latency``: lowest observed latency first (EWMA of complete calls, or of the time to first
  chunk for streams), then ``priority``. A deployment never observed counts as 0 ms so that it is
  tried and measured.
- ``weighted``: a random order where a deployment comes first with probability proportional to
  its ``weight`` (weight 0: only as a last resort).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from itertools import groupby

from socle.routing.catalog import Deployment, Strategy
from socle.routing.health import DeploymentHealth


def blended_price(deployment: Deployment) -> float:
    """Price per million tokens of a typical 3:1 prompt:completion mix."""
    pricing = deployment.pricing
    return (3.0 * pricing.input_per_mtok + pricing.output_per_mtok) / 4.0


def weighted_order(
    deployments: tuple[Deployment, ...], weights: tuple[float, ...], rand: Callable[[], float]
) -> list[Deployment]:
    """A random order drawn without replacement with probabilities proportional to weight.

    Efraimidis–Spirakis: sort by ``u ** (1 / w)`` descending, ``u`` uniform in [0, 1).
    """
    if len(deployments) == 2:
        # The common pair of replicas, without building and sorting keys.
        first, second = weights
        if first + second <= 0:
            return list(deployments)
        if rand() * (first + second) < first:
            return [deployments[0], deployments[1]]
        return [deployments[1], deployments[0]]
    keyed = [((rand() ** (1.0 / w)) if w > 0 else -1.0, i) for i, w in enumerate(weights)]
    keyed.sort(reverse=True)
    return [deployments[i] for _, i in keyed]


class Ordering:
    """The orders of one set of deployments that do not depend on the request, precomputed."""

    __slots__ = ("by_cost", "deployments", "priority_groups", "weights")

    def __init__(self, deployments: tuple[Deployment, ...]) -> None:
        self.deployments = deployments
        self.weights = tuple(d.weight for d in deployments)
        by_priority = sorted(deployments, key=lambda d: d.priority)
        self.priority_groups: tuple[tuple[tuple[Deployment, ...], tuple[float, ...]], ...] = tuple(
            (group, tuple(d.weight for d in group))
            for group in (
                tuple(members) for _, members in groupby(by_priority, key=lambda d: d.priority)
            )
        )
        self.by_cost: tuple[Deployment, ...] = tuple(
            sorted(deployments, key=lambda d: (blended_price(d), d.priority))
        )

    def order(
        self,
        strategy: Strategy,
        health: Mapping[str, DeploymentHealth],
        stream: bool,
        rand: Callable[[], float] = random.random,
    ) -> list[Deployment]:
        """The deployments in try order for one request."""
        deployments = self.deployments
        if len(deployments) <= 1:
            return list(deployments)
        if strategy == "priority":
            ordered: list[Deployment] = []
            for group, weights in self.priority_groups:
                if len(group) == 1:
                    ordered.append(group[0])
                else:
                    ordered += weighted_order(group, weights, rand)
            return ordered
        if strategy == "cost":
            return list(self.by_cost)
        if strategy == "latency":

            def expected(d: Deployment) -> tuple[float, int]:
                known = health.get(d.id)
                return (known.expected_ms(stream) if known else 0.0, d.priority)

            return sorted(deployments, key=expected)
        return weighted_order(deployments, self.weights, rand)
