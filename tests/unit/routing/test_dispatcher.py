"""The call stage with a scripted provider: retries, backoff, fallback, breakers, streams."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from socle.pipeline.context import Classification, RequestContext
from socle.pipeline.errors import (
    InvalidRequest,
    NoRouteAvailable,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from socle.providers.base import ProviderError, ProviderTimeout
from socle.routing.catalog import Deployment
from socle.routing.config import BreakerPolicy, RetryPolicy, RoutingConfig
from socle.routing.dispatcher import Dispatcher
from socle.routing.plan import RoutePlan
from socle.routing.router import Router
from tests.unit.routing.fakes import (
    FakeClock,
    ScriptedProvider,
    context,
    deployment,
    model,
    unavailable,
)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def setup(
    *deployments: Deployment,
    scripts: dict[str, list[Any]] | None = None,
    retry: RetryPolicy | None = None,
    breaker: BreakerPolicy | None = None,
    clock: FakeClock | None = None,
) -> tuple[Router, Dispatcher, ScriptedProvider, Sleeps]:
    config = RoutingConfig(
        models=[model("m", *deployments), model("emb", deployment("e1"), kind="embeddings")],
        retry=retry or RetryPolicy(backoff_base_s=0.1, backoff_max_s=1.0, jitter=0.0),
        breaker=breaker or BreakerPolicy(),
    )
    router = Router(config, clock=clock or FakeClock())
    provider = ScriptedProvider(scripts)
    sleeps = Sleeps()
    return router, Dispatcher(router, {"simulator": provider}, sleep=sleeps), provider, sleeps


def planned(router: Router, name: str = "m", **kwargs: Any) -> RequestContext:
    ctx = context(name, **kwargs)
    ctx.route = router.plan(ctx)
    return ctx


def outcomes(ctx: RequestContext) -> list[tuple[str, str]]:
    return [(a.deployment, a.outcome) for a in ctx.attempts]


async def test_success_sets_transparency_fields_and_logical_model_name() -> None:
    router, dispatcher, provider, _ = setup(deployment("a", location="edge"))
    ctx = planned(router)
    response = await dispatcher.chat(ctx)
    assert response["model"] == "m"
    assert provider.bodies[0]["model"] == "a"  # the upstream model name was sent
    assert ctx.body["model"] == "m"  # the client's body is untouched
    assert (ctx.deployment, ctx.location, ctx.upstream_model) == ("a", "edge", "a")
    assert ctx.response_headers["X-Socle-Deployment"] == "a"
    assert ctx.response_headers["X-Socle-Location"] == "edge"
    assert outcomes(ctx) == [("a", "ok")]
    assert router.health.get("a").latency_ms is not None


async def test_retries_same_deployment_with_exponential_backoff() -> None:
    router, dispatcher, provider, sleeps = setup(
        deployment("a"),
        scripts={"a": [unavailable(503), unavailable(502), unavailable(500)]},
        retry=RetryPolicy(
            max_attempts=4, max_tries_per_deployment=4, backoff_base_s=0.1, jitter=0.0
        ),
    )
    ctx = planned(router)
    await dispatcher.chat(ctx)
    assert provider.calls == ["a", "a", "a", "a"]
    assert sleeps.delays == pytest.approx([0.1, 0.2, 0.4])
    assert [a.status for a in ctx.attempts] == [503, 502, 500, None]


async def test_jitter_draws_part_of_the_backoff_at_random() -> None:
    router, _, _, _ = setup(deployment("a"))
    router.config = router.config.model_copy(
        update={"retry": RetryPolicy(backoff_base_s=1.0, backoff_max_s=10, jitter=0.5)}
    )
    low = Dispatcher(router, {}, rand=lambda: 1.0)
    high = Dispatcher(router, {}, rand=lambda: 0.0)
    assert low._backoff(2, 0.0) == pytest.approx(1.0)
    assert high._backoff(2, 0.0) == pytest.approx(2.0)
    assert high._backoff(10, 0.0) == pytest.approx(10.0)  # capped


async def test_falls_back_to_next_deployment_before_retrying() -> None:
    router, dispatcher, provider, sleeps = setup(
        deployment("a", priority=0),
        deployment("b", priority=1),
        scripts={"a": [unavailable(503)]},
    )
    ctx = planned(router)
    await dispatcher.chat(ctx)
    assert provider.calls == ["a", "b"]
    assert sleeps.delays == []  # a fallback to another deployment does not wait
    assert ctx.deployment == "b"
    assert outcomes(ctx) == [("a", "error"), ("b", "ok")]


async def test_non_retryable_deployment_error_falls_back_without_retry() -> None:
    router, dispatcher, provider, _ = setup(
        deployment("a", priority=0),
        deployment("b", priority=1),
        scripts={
            "a": [ProviderError("bad credential", status=401)],
            "b": [unavailable(503)],
        },
    )
    ctx = planned(router)
    await dispatcher.chat(ctx)
    assert provider.calls == ["a", "b", "b"]


async def test_upstream_400_is_not_retried_and_reaches_the_client_as_400() -> None:
    router, dispatcher, provider, _ = setup(
        deployment("a", priority=0),
        deployment("b", priority=1),
        scripts={"a": [ProviderError("upstream returned HTTP 400: context too long", status=400)]},
    )
    ctx = planned(router)
    with pytest.raises(InvalidRequest) as caught:
        await dispatcher.chat(ctx)
    assert caught.value.status == 400
    assert "Deployment `a` rejected the request: upstream status 400" in caught.value.message
    assert provider.calls == ["a"]
    assert router.health.get("a").breaker.state == "closed"


async def test_rate_limit_honours_retry_after_under_the_cap() -> None:
    router, dispatcher, _provider, sleeps = setup(
        deployment("a"), scripts={"a": [unavailable(429, retry_after=0.7)]}
    )
    ctx = planned(router)
    await dispatcher.chat(ctx)
    assert sleeps.delays == [0.7]
    assert outcomes(ctx) == [("a", "rate_limited"), ("a", "ok")]


async def test_rate_limit_longer_than_the_cap_is_not_waited_for() -> None:
    router, dispatcher, _provider, sleeps = setup(
        deployment("a"), scripts={"a": [unavailable(429, retry_after=60)]}
    )
    ctx = planned(router)
    with pytest.raises(RateLimited) as caught:
        await dispatcher.chat(ctx)
    assert sleeps.delays == []
    assert caught.value.status == 429
    assert caught.value.headers == {"Retry-After": "60"}
    assert "rate limited" in caught.value.message


async def test_all_failures_give_502_naming_deployment_and_status() -> None:
    router, dispatcher, provider, _ = setup(
        deployment("a", priority=0),
        deployment("b", priority=1),
        scripts={"a": [unavailable(503)] * 5, "b": [unavailable(500)] * 5},
    )
    ctx = planned(router)
    with pytest.raises(UpstreamError) as caught:
        await dispatcher.chat(ctx)
    assert caught.value.status == 502
    assert provider.calls == ["a", "b", "a", "b"]  # max_attempts=4, 2 tries per deployment
    assert caught.value.message.startswith("Deployment `b` failed: upstream status 500")
    assert "a: error 503; b: error 500; a: error 503; b: error 500" in caught.value.message


async def test_all_timeouts_give_504() -> None:
    router, dispatcher, _provider, _ = setup(
        deployment("a"),
        scripts={"a": [ProviderTimeout("read timeout")] * 2},
    )
    ctx = planned(router)
    with pytest.raises(UpstreamTimeout) as caught:
        await dispatcher.chat(ctx)
    assert caught.value.status == 504
    assert outcomes(ctx) == [("a", "timeout"), ("a", "timeout")]


async def test_per_request_deadline_bounds_a_hanging_upstream() -> None:
    router, dispatcher, provider, _ = setup(
        deployment("a", priority=0),
        deployment("b", priority=1),
        scripts={"a": ["hang"], "b": ["hang"]},
        retry=RetryPolicy(deadline_s=0.05),
    )
    ctx = planned(router)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(UpstreamTimeout):
        await dispatcher.chat(ctx)
    assert loop.time() - started < 1.0
    assert provider.calls == ["a"]  # the deadline was spent on the first try
    assert outcomes(ctx) == [("a", "timeout")]
    assert ctx.attempts[0].detail == "request deadline"


async def test_breaker_opens_and_later_requests_skip_the_deployment() -> None:
    clock = FakeClock()
    router, dispatcher, provider, _ = setup(
        deployment("a", priority=0),
        deployment("b", priority=1),
        scripts={"a": [unavailable(503)] * 10},
        retry=RetryPolicy(max_tries_per_deployment=1, jitter=0.0),
        breaker=BreakerPolicy(failures=2, window_s=60, open_s=30),
        clock=clock,
    )
    for _ in range(2):
        await dispatcher.chat(planned(router))
    assert router.health.get("a").breaker.state == "open"
    provider.calls.clear()
    ctx = planned(router)
    assert [d.id for d in ctx.route.candidates] == ["b", "a"]  # open breaker moved last
    await dispatcher.chat(ctx)
    assert provider.calls == ["b"]
    # After open_s a probe goes through and its success closes the breaker.
    clock.advance(30)
    provider.scripts["a"].clear()
    ctx = planned(router)
    await dispatcher.chat(ctx)
    assert ctx.deployment == "a"
    assert router.health.get("a").breaker.state == "closed"


async def test_stale_plan_with_open_breakers_only_is_a_503() -> None:
    router, dispatcher, provider, _ = setup(deployment("a"), breaker=BreakerPolicy(failures=1))
    ctx = planned(router)
    router.health.get("a").breaker.record_failure()
    with pytest.raises(NoRouteAvailable) as caught:
        await dispatcher.chat(ctx)
    assert caught.value.message.startswith(
        "no on_prem/edge/sovereign_cloud/public_cloud deployment healthy for classification="
        "internal (model `m`: a: circuit breaker open)"
    )
    assert provider.calls == []


async def test_offline_dispatcher_refuses_a_remote_deployment_in_a_stale_plan() -> None:
    router = Router(RoutingConfig(models=[model("m", deployment("local"))], offline=True))
    provider = ScriptedProvider()
    dispatcher = Dispatcher(router, {"simulator": provider})
    ctx = context("m")
    ctx.route = RoutePlan(
        model="m",
        version=None,
        classification=Classification.INTERNAL,
        strategy="priority",
        candidates=[deployment("cloud", location="public_cloud"), deployment("local")],
        dropped={},
        locations=frozenset({"on_prem"}),
        attempts=ctx.attempts,
    )
    await dispatcher.chat(ctx)
    assert provider.calls == ["local"]
    assert outcomes(ctx) == [("cloud", "refused"), ("local", "ok")]


async def test_cancellation_gives_back_the_half_open_probe() -> None:
    clock = FakeClock()
    router, dispatcher, _provider, _ = setup(
        deployment("a"),
        scripts={"a": ["hang"]},
        breaker=BreakerPolicy(failures=1, open_s=1, half_open_probes=1),
        clock=clock,
    )
    router.health.get("a").breaker.record_failure()
    clock.advance(1)
    task = asyncio.create_task(dispatcher.chat(planned(router)))
    await asyncio.sleep(0.01)
    assert not router.health.get("a").breaker.available()  # the probe is in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert router.health.get("a").breaker.available()


async def test_embeddings_go_through_the_same_dispatch() -> None:
    router, dispatcher, provider, _ = setup(deployment("a"), scripts={"e1": [unavailable(503)]})
    ctx = planned(router, "emb", endpoint="embeddings")
    response = await dispatcher.embeddings(ctx)
    assert response["model"] == "emb"
    assert provider.calls == ["e1", "e1"]


async def collect(dispatcher: Dispatcher, ctx: RequestContext) -> list[dict[str, Any]]:
    return [chunk async for chunk in dispatcher.chat_stream(ctx)]


async def test_stream_falls_back_before_the_first_chunk() -> None:
    router, dispatcher, _provider, _ = setup(
        deployment("a", priority=0),
        deployment("b", priority=1),
        scripts={"a": [unavailable(503)]},
    )
    ctx = planned(router, stream=True)
    chunks = await collect(dispatcher, ctx)
    assert [c["choices"][0]["delta"]["content"] for c in chunks] == ["Hel", "lo"]
    assert all(c["model"] == "m" for c in chunks)
    assert ctx.response_headers["X-Socle-Deployment"] == "b"
    assert router.health.get("b").ttft_ms is not None


async def test_stream_that_hangs_before_first_chunk_falls_back_within_the_deadline() -> None:
    router, dispatcher, _provider, _ = setup(
        deployment("a", priority=0),
        deployment("b", priority=1),
        scripts={"a": [ProviderTimeout("no first byte")]},
    )
    ctx = planned(router, stream=True)
    chunks = await collect(dispatcher, ctx)
    assert len(chunks) == 2 and ctx.deployment == "b"


@pytest.mark.parametrize(
    ("step", "error", "outcome"),
    [("midfail", UpstreamError, "error"), ("midtimeout", UpstreamTimeout, "timeout")],
)
async def test_stream_error_after_first_chunk_propagates_without_fallback(
    step: str, error: type[Exception], outcome: str
) -> None:
    router, dispatcher, provider, _ = setup(
        deployment("a", priority=0), deployment("b", priority=1), scripts={"a": [step]}
    )
    ctx = planned(router, stream=True)
    received: list[dict[str, Any]] = []
    with pytest.raises(error, match="Deployment `a` stopped the stream"):
        async for chunk in dispatcher.chat_stream(ctx):
            received.append(chunk)
    assert len(received) == 1
    assert provider.calls == ["a"]  # never "b": the client already has a's first chunk
    assert outcomes(ctx) == [("a", outcome)]
    assert ctx.attempts[0].detail.startswith("after first chunk")
    assert router.health.get("a").breaker.snapshot()["recent_failures"] == 1


async def test_stream_closed_early_by_the_client_closes_the_upstream() -> None:
    router, dispatcher, _provider, _ = setup(deployment("a"), scripts={"a": ["stall"]})
    ctx = planned(router, stream=True)
    stream = dispatcher.chat_stream(ctx)
    first = await anext(stream)
    assert first["model"] == "m"
    await stream.aclose()  # must not hang on the stalled upstream
    assert outcomes(ctx) == [("a", "ok")]


async def test_unexpected_provider_exception_falls_back() -> None:
    router, dispatcher, _provider, _ = setup(
        deployment("a", priority=0), deployment("b", priority=1), scripts={"a": [KeyError]}
    )
    ctx = planned(router)
    await dispatcher.chat(ctx)
    assert outcomes(ctx) == [("a", "error"), ("b", "ok")]
    assert ctx.attempts[0].detail == "KeyError"
