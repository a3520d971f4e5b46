"""The default catalog served by the real simulator provider: every built-in model answers, and
sim-flaky's failures are absorbed by retries, fallback and its breaker."""

from __future__ import annotations

from collections import Counter

from socle.pipeline.context import Principal, RequestContext
from socle.providers.simulator import SimulatorProvider
from socle.routing.config import RoutingConfig
from socle.routing.service import build_routing


def request(
    model: str, *, endpoint: str = "chat.completions", stream: bool = False
) -> RequestContext:
    body: dict[str, object] = {"model": model}
    if endpoint == "embeddings":
        body["input"] = "bonjour"
    else:
        body["messages"] = [{"role": "user", "content": "Bonjour"}]
        body["stream"] = stream
    return RequestContext(
        request_id="r",
        endpoint=endpoint,
        body=body,
        headers={},
        model=model,
        stream=stream,
        principal=Principal(key_id="k", org_id="o", project_id="p"),
    )


async def routed(service: object, ctx: RequestContext) -> RequestContext:
    await service.classify_stage.before_call(ctx)  # type: ignore[attr-defined]
    await service.route_stage.before_call(ctx)  # type: ignore[attr-defined]
    return ctx


async def test_every_builtin_model_answers_with_its_logical_name() -> None:
    service = build_routing(RoutingConfig(), {"simulator": SimulatorProvider()})
    for name in ("chat-default", "sim-small", "sim-large"):
        ctx = await routed(service, request(name))
        response = await service.dispatcher.chat(ctx)
        assert response["model"] == name
        assert response["choices"][0]["message"]["content"]
        assert ctx.response_headers["X-Socle-Location"] == "on_prem"
    ctx = await routed(service, request("chat-default", stream=True))
    chunks = [c async for c in service.dispatcher.chat_stream(ctx)]
    assert len(chunks) > 2 and {c["model"] for c in chunks} == {"chat-default"}
    ctx = await routed(service, request("text-embedding-sim", endpoint="embeddings"))
    response = await service.dispatcher.embeddings(ctx)
    assert response["model"] == "text-embedding-sim"
    assert len(response["data"][0]["embedding"]) == 384
    assert service.catalog().get("sim-flaky") is not None


async def test_sim_flaky_failures_are_absorbed_and_open_its_breaker() -> None:
    service = build_routing(RoutingConfig(), {"simulator": SimulatorProvider()})
    served: Counter[str] = Counter()
    outcomes: Counter[tuple[str, str]] = Counter()
    for _ in range(200):
        ctx = await routed(service, request("sim-flaky"))
        await service.dispatcher.chat(ctx)
        served[ctx.deployment or ""] += 1
        outcomes.update((a.deployment, a.outcome) for a in ctx.attempts)
    assert sum(served.values()) == 200  # no client saw a failure
    assert served["sim-flaky-fallback"] > 0
    assert outcomes[("sim-flaky", "error")] > 0
    status = {s["id"]: s for s in service.router.deployments_status()}
    # ~20 % failures: 5 within 30 s open the breaker, then the fallback serves alone.
    assert status["sim-flaky"]["breaker"]["state"] == "open"
    assert served["sim-flaky-fallback"] > served["sim-flaky"]
