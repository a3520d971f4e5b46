"""Property: whatever the upstreams do, data never reaches a deployment its classification or the
project's policy forbids, and a refusal is always explicit."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socle.pipeline.context import Classification
from socle.pipeline.errors import GatewayError, NoRouteAvailable
from socle.providers.base import ProviderError, ProviderTimeout
from socle.routing.catalog import LOCATIONS, Deployment
from socle.routing.config import BreakerPolicy, RetryPolicy, RoutingConfig
from socle.routing.dispatcher import Dispatcher
from socle.routing.router import Router
from socle.routing.stage import RouteStage
from tests.unit.routing.fakes import ScriptedProvider, context, deployment, model, no_sleep

LEVELS = ["public", "internal", "confidential", "secret"]
FAILURES = st.sampled_from(["ok", "503", "502", "429", "401", "400", "timeout", "midfail"])


def failure(kind: str) -> Any:
    if kind == "timeout":
        return ProviderTimeout("timed out")
    if kind.isdigit():
        status = int(kind)
        return ProviderError(
            f"HTTP {status}", status=status, retryable=status >= 500 or status == 429
        )
    return kind


@st.composite
def deployments(draw: st.DrawFn) -> list[Deployment]:
    count = draw(st.integers(1, 6))
    return [
        deployment(
            f"d{i}",
            location=draw(st.sampled_from(LOCATIONS)),
            jurisdiction=draw(st.sampled_from(["FR", "DE", "US"])),
            max_classification=draw(st.sampled_from(LEVELS)),
            certifications=draw(st.sets(st.sampled_from(["secnumcloud", "hds"]))),
            priority=draw(st.integers(0, 2)),
            weight=draw(st.sampled_from([0.0, 1.0, 2.0])),
            price=draw(st.sampled_from([0.1, 1.0])),
        )
        for i in range(count)
    ]


POLICIES = st.fixed_dictionaries(
    {},
    optional={
        "allowed_locations": st.lists(st.sampled_from(LOCATIONS), min_size=1, unique=True),
        "allowed_jurisdictions": st.lists(st.sampled_from(["FR", "EU", "US"]), min_size=1),
        "required_certifications": st.lists(st.sampled_from(["secnumcloud", "hds"])),
        "strategy": st.sampled_from(["priority", "cost", "latency", "weighted"]),
    },
)


def permitted(d: Deployment, level: Classification, policy: dict[str, Any]) -> bool:
    """The rule, restated independently of the router's code."""
    by_level = {
        Classification.PUBLIC: set(LOCATIONS),
        Classification.INTERNAL: set(LOCATIONS),
        Classification.CONFIDENTIAL: {"on_prem", "edge", "sovereign_cloud"},
        Classification.SECRET: {"on_prem"},
    }
    if d.location not in by_level[level] or d.max_classification < level:
        return False
    if "allowed_locations" in policy and d.location not in policy["allowed_locations"]:
        return False
    if "allowed_jurisdictions" in policy:
        allowed = set(policy["allowed_jurisdictions"])
        if "EU" in allowed:
            allowed |= {"FR", "DE"}
        if d.jurisdiction not in allowed:
            return False
    return set(policy.get("required_certifications", [])) <= d.certifications


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    catalog=deployments(),
    level=st.sampled_from(list(Classification)),
    policy=POLICIES,
    scripts=st.lists(st.lists(FAILURES, max_size=6), min_size=6, max_size=6),
    requests=st.integers(1, 4),
    stream=st.booleans(),
)
def test_classified_data_never_reaches_a_forbidden_deployment(
    catalog: list[Deployment],
    level: Classification,
    policy: dict[str, Any],
    scripts: list[list[str]],
    requests: int,
    stream: bool,
) -> None:
    router = Router(
        RoutingConfig(
            models=[model("m", *catalog)],
            retry=RetryPolicy(max_attempts=6, max_tries_per_deployment=3),
            breaker=BreakerPolicy(failures=2),
        )
    )
    provider = ScriptedProvider(
        {d.id: [failure(k) for k in script] for d, script in zip(catalog, scripts, strict=False)}
    )
    dispatcher = Dispatcher(router, {"simulator": provider}, sleep=no_sleep)
    stage = RouteStage(router)
    allowed = {d.id for d in catalog if permitted(d, level, policy)}

    async def one_request() -> None:
        ctx = context("m", classification=level, stream=stream, settings={"routing": policy})
        try:
            await stage.before_call(ctx)
            if stream:
                async for _ in dispatcher.chat_stream(ctx):
                    pass
            else:
                await dispatcher.chat(ctx)
        except NoRouteAvailable as refusal:
            assert refusal.status == 503
            assert f"classification={level.label}" in refusal.message
        except GatewayError as error:
            assert error.status in {400, 429, 502, 504}
        else:
            assert ctx.deployment in allowed
            assert ctx.response_headers["X-Socle-Deployment"] == ctx.deployment
        if ctx.route is not None:
            assert {d.id for d in ctx.route.candidates} <= allowed
        assert {a.deployment for a in ctx.attempts} <= allowed

    loop = asyncio.new_event_loop()
    try:
        for _ in range(requests):
            loop.run_until_complete(one_request())
    finally:
        loop.close()
    assert set(provider.calls) <= allowed
    if not allowed:
        assert provider.calls == []
