"""Routing hot-path cost per request (not a test; run: python -m tests.unit.routing.perf_routing).

CPU time (``process_time``, less sensitive to other load than wall time), best of 7 × 20 000
requests, for the classify stage, the route stage (one deployment; three deployments under a
project policy; a canary rollout) and the dispatcher with an instant in-process provider.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from socle.pipeline.context import Principal, RequestContext
from socle.providers.endpoint import Endpoint
from socle.routing.config import RoutingConfig
from socle.routing.dispatcher import Dispatcher
from socle.routing.rollout import Rollout
from socle.routing.router import Router
from socle.routing.stage import ClassifyStage, RouteStage
from tests.unit.routing.fakes import deployment, model

ROUNDS, REQUESTS = 7, 20_000
SETTINGS: dict[str, Any] = {
    "routing": {
        "allowed_jurisdictions": ["EU"],
        "allowed_locations": ["on_prem", "sovereign_cloud"],
    },
    "default_classification": "internal",
    "classification_floor": "internal",
}
PRINCIPAL = Principal(key_id="k1", org_id="o", project_id="p", team_id="t")


class InstantProvider:
    """Answers at once, so that only the dispatcher's own cost is measured."""

    async def chat(self, endpoint: Endpoint, body: dict[str, Any]) -> dict[str, Any]:
        return {"model": body["model"], "choices": []}


def build() -> tuple[Router, ClassifyStage, RouteStage, Dispatcher]:
    models = [
        model("one", deployment("solo")),
        model(
            "three",
            deployment("a"),
            deployment("b"),
            deployment("c", priority=1, location="sovereign_cloud"),
        ),
        model("canary", deployment("v1"), deployment("v1b")),
        model("next", deployment("v2")),
    ]
    rollout = Rollout.model_validate(
        {
            "model": "canary",
            "versions": [
                {"name": "stable", "percent": 90, "deployments": ["v1", "v1b"]},
                {"name": "next", "percent": 10, "model": "next"},
            ],
        }
    )
    router = Router(RoutingConfig(models=models, rollouts=[rollout]))
    dispatcher = Dispatcher(router, {"simulator": InstantProvider()})  # type: ignore[dict-item]
    return router, ClassifyStage(), RouteStage(router), dispatcher


def request(name: str) -> RequestContext:
    return RequestContext(
        request_id="r",
        endpoint="chat.completions",
        body={"model": name, "messages": []},
        headers={"x-socle-classification": "confidential"},
        model=name,
        principal=PRINCIPAL,
        project_settings=SETTINGS,
    )


async def measure(label: str, step: Callable[[], Awaitable[Any]]) -> None:
    best = float("inf")
    for _ in range(ROUNDS):
        started = time.process_time()
        for _ in range(REQUESTS):
            await step()
        best = min(best, (time.process_time() - started) / REQUESTS)
    print(f"{label:42s} {best * 1e6:7.2f} µs")


async def main() -> None:
    _, classify, route, dispatcher = build()
    ctx = request("one")
    await measure("classify stage", lambda: classify.before_call(ctx))
    for name in ("one", "three", "canary"):
        routed = request(name)
        await classify.before_call(routed)
        await measure(f"route stage, model {name}", lambda ctx=routed: route.before_call(ctx))
    called = request("three")
    await classify.before_call(called)
    await route.before_call(called)

    async def call() -> None:
        called.attempts.clear()
        await dispatcher.chat(called)

    await measure("dispatcher.chat (instant provider)", call)


if __name__ == "__main__":
    asyncio.run(main())
