"""Routing against real HTTP upstreams on 127.0.0.1 through the OpenAI-compatible provider:
fallback, retries, timeouts, stalled streams, breakers, and classification never downgraded."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from socle.pipeline.context import Principal, RequestContext
from socle.pipeline.errors import (
    InvalidRequest,
    NoRouteAvailable,
    RateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from socle.pipeline.runner import Pipeline
from socle.providers.openai_compat import OpenAICompatProvider
from socle.routing.catalog import Deployment, LogicalModel
from socle.routing.config import BreakerPolicy, RetryPolicy, RoutingConfig
from socle.routing.dispatcher import Dispatcher
from socle.routing.router import Router
from socle.routing.stage import ClassifyStage, RouteStage
from tests.integration.routing.upstreams import MockUpstream

FAST_RETRY = RetryPolicy(backoff_base_s=0.01, backoff_max_s=0.05, jitter=0.5, deadline_s=5)


@pytest.fixture
async def provider() -> AsyncIterator[OpenAICompatProvider]:
    client = OpenAICompatProvider()
    try:
        yield client
    finally:
        await client.close()


def hosted(
    deployment_id: str,
    upstream: MockUpstream,
    *,
    location: str = "on_prem",
    max_classification: str = "secret",
    priority: int = 0,
    read_timeout: float = 5.0,
    total_timeout: float = 10.0,
) -> Deployment:
    return Deployment.model_validate(
        {
            "id": deployment_id,
            "endpoint": {
                "provider": "openai_compat",
                "upstream_model": f"{deployment_id}-upstream",
                "base_url": upstream.base_url,
                "timeouts": {"connect": 1.0, "read": read_timeout, "total": total_timeout},
            },
            "location": location,
            "max_classification": max_classification,
            "priority": priority,
        }
    )


def build(
    provider: OpenAICompatProvider,
    *deployments: Deployment,
    kind: str = "chat",
    retry: RetryPolicy = FAST_RETRY,
    breaker: BreakerPolicy | None = None,
) -> tuple[Router, Dispatcher]:
    model = LogicalModel.model_validate({"name": "m", "kind": kind, "deployments": deployments})
    router = Router(RoutingConfig(models=[model], retry=retry, breaker=breaker or BreakerPolicy()))
    return router, Dispatcher(router, {"openai_compat": provider})


async def routed(
    router: Router,
    *,
    classification: str = "internal",
    stream: bool = False,
    endpoint: str = "chat.completions",
) -> RequestContext:
    body: dict[str, Any] = {"model": "m"}
    if endpoint == "embeddings":
        body["input"] = ["un", "deux"]
    else:
        body["messages"] = [{"role": "user", "content": "Bonjour"}]
    if stream:
        body["stream"] = True
    ctx = RequestContext(
        request_id="req-http",
        endpoint=endpoint,
        body=body,
        headers={"x-socle-classification": classification},
        model="m",
        stream=stream,
        principal=Principal(key_id="k", org_id="o", project_id="p"),
    )
    await ClassifyStage().before_call(ctx)
    await RouteStage(router).before_call(ctx)
    return ctx


async def test_falls_back_from_a_failing_upstream(provider: OpenAICompatProvider) -> None:
    async with MockUpstream("fail") as bad, MockUpstream("ok", reply="Salut") as good:
        router, dispatcher = build(
            provider, hosted("bad", bad, priority=0), hosted("good", good, priority=1)
        )
        ctx = await routed(router)
        response = await dispatcher.chat(ctx)
    assert response["choices"][0]["message"]["content"] == "Salut"
    assert response["model"] == "m"
    assert good.requests[0]["model"] == "good-upstream"
    assert len(bad.requests) == 1
    assert ctx.response_headers == {
        "X-Socle-Classification": "internal",
        "X-Socle-Deployment": "good",
        "X-Socle-Location": "on_prem",
    }
    assert [(a.deployment, a.outcome, a.status) for a in ctx.attempts] == [
        ("bad", "error", 503),
        ("good", "ok", None),
    ]


async def test_retries_after_429_and_503_on_the_only_deployment(
    provider: OpenAICompatProvider,
) -> None:
    async with MockUpstream("ok", fail_first=1) as flaky:
        router, dispatcher = build(provider, hosted("one", flaky))
        ctx = await routed(router)
        await dispatcher.chat(ctx)
        assert len(flaky.requests) == 2
    async with MockUpstream("rate_limited", retry_after="0") as limited:
        router, dispatcher = build(provider, hosted("one", limited))
        ctx = await routed(router)
        with pytest.raises(RateLimited) as caught:
            await dispatcher.chat(ctx)
        assert caught.value.status == 429
        assert len(limited.requests) == 2  # max_tries_per_deployment


async def test_slow_upstream_times_out_and_falls_back(provider: OpenAICompatProvider) -> None:
    async with MockUpstream("slow", delay=3) as slow, MockUpstream("ok") as good:
        router, dispatcher = build(
            provider,
            hosted("slow", slow, priority=0, read_timeout=0.3),
            hosted("good", good, priority=1),
        )
        started = time.perf_counter()
        ctx = await routed(router)
        await dispatcher.chat(ctx)
        elapsed = time.perf_counter() - started
    assert ctx.deployment == "good"
    assert ctx.attempts[0].outcome == "timeout"
    assert elapsed < 2.0


async def test_endpoint_total_timeout_bounds_a_try_well_inside_the_deadline(
    provider: OpenAICompatProvider,
) -> None:
    # deadline 600 s, total 0.3 s: the try relies on the provider's own timeout.
    retry = RetryPolicy(backoff_base_s=0.01, deadline_s=600)
    async with MockUpstream("slow", delay=3) as slow, MockUpstream("ok") as good:
        router, dispatcher = build(
            provider,
            hosted("slow", slow, priority=0, total_timeout=0.3),
            hosted("good", good, priority=1),
            retry=retry,
        )
        started = time.perf_counter()
        ctx = await routed(router)
        await dispatcher.chat(ctx)
        elapsed = time.perf_counter() - started
    assert ctx.deployment == "good"
    assert ctx.attempts[0].outcome == "timeout"
    assert elapsed < 2.0


async def test_per_request_deadline_caps_every_try(provider: OpenAICompatProvider) -> None:
    retry = RetryPolicy(backoff_base_s=0.01, deadline_s=0.5)
    async with MockUpstream("slow", delay=3) as a, MockUpstream("slow", delay=3) as b:
        router, dispatcher = build(
            provider, hosted("a", a, priority=0), hosted("b", b, priority=1), retry=retry
        )
        started = time.perf_counter()
        ctx = await routed(router)
        with pytest.raises(UpstreamTimeout) as caught:
            await dispatcher.chat(ctx)
        elapsed = time.perf_counter() - started
    assert caught.value.status == 504
    assert 0.45 < elapsed < 1.5


async def test_stream_falls_back_before_the_first_byte(provider: OpenAICompatProvider) -> None:
    async with MockUpstream("fail") as bad, MockUpstream("ok", reply="Bonjour") as good:
        router, dispatcher = build(
            provider, hosted("bad", bad, priority=0), hosted("good", good, priority=1)
        )
        ctx = await routed(router, stream=True)
        chunks = [c async for c in dispatcher.chat_stream(ctx)]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Bonjour"
    assert all(c["model"] == "m" for c in chunks)
    assert ctx.deployment == "good"
    assert good.requests[0]["stream"] is True


async def test_stream_stalled_mid_way_ends_with_a_timeout_and_no_fallback(
    provider: OpenAICompatProvider,
) -> None:
    async with MockUpstream("stall", delay=3) as stall, MockUpstream("ok") as good:
        router, dispatcher = build(
            provider,
            hosted("stall", stall, priority=0, read_timeout=0.3),
            hosted("good", good, priority=1),
        )
        ctx = await routed(router, stream=True)
        received = []
        started = time.perf_counter()
        with pytest.raises(UpstreamTimeout, match="Deployment `stall` stopped the stream"):
            async for chunk in dispatcher.chat_stream(ctx):
                received.append(chunk)
        elapsed = time.perf_counter() - started
    assert len(received) == 1  # the first chunk reached the client: no fallback after it
    assert good.requests == []
    assert ctx.attempts[-1].outcome == "timeout"
    assert elapsed < 2.0


async def test_breaker_opens_and_stops_traffic_to_a_failing_upstream(
    provider: OpenAICompatProvider,
) -> None:
    breaker = BreakerPolicy(failures=3, window_s=60, open_s=60)
    retry = RetryPolicy(max_tries_per_deployment=1, backoff_base_s=0.01, deadline_s=5)
    async with MockUpstream("fail") as bad, MockUpstream("ok") as good:
        router, dispatcher = build(
            provider,
            hosted("bad", bad, priority=0),
            hosted("good", good, priority=1),
            retry=retry,
            breaker=breaker,
        )
        for _ in range(6):
            ctx = await routed(router)
            await dispatcher.chat(ctx)
            assert ctx.deployment == "good"
        assert len(bad.requests) == 3
        assert len(good.requests) == 6
    status = {s["id"]: s for s in router.deployments_status()}
    assert status["bad"]["breaker"]["state"] == "open"
    assert status["bad"]["attempts"] == {"error": 3}
    assert status["good"]["breaker"]["state"] == "closed"


async def test_secret_data_is_refused_rather_than_sent_to_the_cloud(
    provider: OpenAICompatProvider,
) -> None:
    breaker = BreakerPolicy(failures=2, window_s=60, open_s=60)
    async with MockUpstream("fail") as onprem, MockUpstream("ok") as cloud:
        router, dispatcher = build(
            provider,
            hosted("onprem", onprem, priority=1),
            hosted("cloud", cloud, location="public_cloud", max_classification="internal"),
            breaker=breaker,
        )
        ctx = await routed(router, classification="secret")
        assert [d.id for d in ctx.route.candidates] == ["onprem"]
        with pytest.raises(UpstreamError) as failed:
            await dispatcher.chat(ctx)
        assert failed.value.status == 502
        assert "Deployment `onprem` failed: upstream status 503" in failed.value.message
        # The breaker is now open: the next secret request is refused before any call.
        with pytest.raises(NoRouteAvailable) as refused:
            await routed(router, classification="secret")
        assert refused.value.status == 503
        assert refused.value.message.startswith(
            "no on_prem deployment healthy for classification=secret (model `m`: "
            "onprem: circuit breaker open; "
            "cloud: location public_cloud not allowed for classification=secret"
        )
        # Public data may use the cloud deployment.
        ctx = await routed(router, classification="public")
        await dispatcher.chat(ctx)
        assert ctx.deployment == "cloud"
        assert ctx.response_headers["X-Socle-Location"] == "public_cloud"
    assert len(onprem.requests) == 2
    assert len(cloud.requests) == 1


async def test_upstream_400_is_returned_as_400_without_fallback(
    provider: OpenAICompatProvider,
) -> None:
    async with MockUpstream("reject") as picky, MockUpstream("ok") as good:
        router, dispatcher = build(
            provider, hosted("picky", picky, priority=0), hosted("good", good, priority=1)
        )
        ctx = await routed(router)
        with pytest.raises(InvalidRequest, match="maximum context length exceeded"):
            await dispatcher.chat(ctx)
    assert good.requests == []


async def test_embeddings_fall_back_too(provider: OpenAICompatProvider) -> None:
    async with MockUpstream("fail") as bad, MockUpstream("ok") as good:
        router, dispatcher = build(
            provider,
            hosted("bad", bad, priority=0),
            hosted("good", good, priority=1),
            kind="embeddings",
        )
        ctx = await routed(router, endpoint="embeddings")
        response = await dispatcher.embeddings(ctx)
    assert response["model"] == "m"
    assert len(response["data"]) == 2
    assert good.requests[0]["model"] == "good-upstream"


async def test_pipeline_stream_has_transparency_headers_before_the_first_byte(
    provider: OpenAICompatProvider,
) -> None:
    async with MockUpstream("fail") as bad, MockUpstream("ok", reply="Bonjour") as good:
        router, dispatcher = build(
            provider, hosted("bad", bad, priority=0), hosted("good", good, priority=1)
        )
        pipeline = Pipeline([ClassifyStage(), RouteStage(router)], dispatcher)
        ctx = RequestContext(
            request_id="req-pipe",
            endpoint="chat.completions",
            body={"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": True},
            headers={"x-socle-classification": "confidential"},
            model="m",
            stream=True,
            principal=Principal(key_id="k", org_id="o", project_id="p"),
        )
        events = await pipeline.open_stream(ctx)
        # The HTTP layer sends headers now, before relaying any event.
        assert ctx.response_headers == {
            "X-Socle-Classification": "confidential",
            "X-Socle-Deployment": "good",
            "X-Socle-Location": "on_prem",
        }
        body = b"".join([event async for event in events])
    assert body.endswith(b"data: [DONE]\n\n")
    assert b'"model":"m"' in body
    assert ctx.route.to_audit()["attempts"][0]["status"] == 503
