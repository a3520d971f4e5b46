"""Test doubles for routing unit tests: a scripted provider, catalog builders, contexts."""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Iterable
from typing import Any

from socle.pipeline.context import Classification, Principal, RequestContext
from socle.providers.base import Json, ProviderError, ProviderTimeout
from socle.providers.endpoint import Endpoint
from socle.routing.catalog import Deployment, LogicalModel

OK = "ok"


def deployment(
    deployment_id: str,
    *,
    location: str = "on_prem",
    jurisdiction: str = "FR",
    max_classification: str = "secret",
    certifications: Iterable[str] = (),
    priority: int = 0,
    weight: float = 1.0,
    price: float = 0.0,
    provider: str = "simulator",
    enabled: bool = True,
) -> Deployment:
    """A deployment whose upstream model name is its id (the fake provider scripts by it)."""
    endpoint: dict[str, Any] = {"provider": provider, "upstream_model": deployment_id}
    if provider != "simulator":
        endpoint["base_url"] = "http://127.0.0.1:9/v1"
    return Deployment.model_validate(
        {
            "id": deployment_id,
            "endpoint": endpoint,
            "location": location,
            "jurisdiction": jurisdiction,
            "max_classification": max_classification,
            "certifications": list(certifications),
            "priority": priority,
            "weight": weight,
            "pricing": {"input_per_mtok": price, "output_per_mtok": price},
            "enabled": enabled,
        }
    )


def model(name: str, *deployments: Deployment, kind: str = "chat") -> LogicalModel:
    return LogicalModel.model_validate({"name": name, "kind": kind, "deployments": deployments})


def context(
    model_name: str,
    *,
    classification: Classification = Classification.INTERNAL,
    endpoint: str = "chat.completions",
    stream: bool = False,
    key_id: str = "key-1",
    project_id: str = "proj-1",
    team_id: str | None = "team-1",
    user: str | None = None,
    allowed_models: frozenset[str] | None = None,
    settings: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> RequestContext:
    body: dict[str, Any] = {"model": model_name, "messages": [{"role": "user", "content": "hi"}]}
    if user is not None:
        body["user"] = user
    if stream:
        body["stream"] = True
    ctx = RequestContext(
        request_id="req-1",
        endpoint=endpoint,
        body=body,
        headers=headers or {},
        model=model_name,
        stream=stream,
        principal=Principal(
            key_id=key_id,
            org_id="org-1",
            project_id=project_id,
            team_id=team_id,
            allowed_models=allowed_models,
        ),
        project_settings=settings or {},
    )
    ctx.classification = classification
    return ctx


def completion(model_name: str, text: str = "hello") -> Json:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": model_name,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}}],
    }


def chunk(model_name: str, text: str, finish: str | None = None) -> Json:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model_name,
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }


class ScriptedProvider:
    """A Provider whose answers are scripted per upstream model name.

    Each script item is "ok", "hang" (never answers), "stall" (streams: one chunk then hangs),
    "midfail" (streams: one chunk then a 502), a ProviderError to raise, or an exception class.
    When a model's script runs out, it answers "ok".
    """

    def __init__(self, scripts: dict[str, list[Any]] | None = None) -> None:
        self.scripts: dict[str, deque[Any]] = defaultdict(deque)
        for name, items in (scripts or {}).items():
            self.scripts[name].extend(items)
        self.calls: list[str] = []
        self.bodies: list[Json] = []

    def _next(self, endpoint: Endpoint, body: Json) -> Any:
        self.calls.append(endpoint.upstream_model)
        self.bodies.append(body)
        script = self.scripts[endpoint.upstream_model]
        return script.popleft() if script else OK

    async def chat(self, endpoint: Endpoint, body: Json) -> Json:
        step = self._next(endpoint, body)
        await asyncio.sleep(0)
        if step == "hang" or step == "stall":
            await asyncio.sleep(3600)
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, type):
            raise step()
        return completion(body["model"])

    async def chat_stream(self, endpoint: Endpoint, body: Json) -> AsyncIterator[Json]:
        step = self._next(endpoint, body)
        await asyncio.sleep(0)
        if step == "hang":
            await asyncio.sleep(3600)
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, type):
            raise step()
        yield chunk(body["model"], "Hel")
        if step == "stall":
            await asyncio.sleep(3600)
        if step == "midfail":
            raise ProviderError("upstream broke", status=502, retryable=True)
        if step == "midtimeout":
            raise ProviderTimeout("upstream stalled")
        yield chunk(body["model"], "lo", "stop")

    async def embeddings(self, endpoint: Endpoint, body: Json) -> Json:
        step = self._next(endpoint, body)
        if isinstance(step, BaseException):
            raise step
        return {"object": "list", "model": body["model"], "data": [{"embedding": [0.0]}]}

    async def close(self) -> None:
        return None


def unavailable(status: int = 503, *, retry_after: float | None = None) -> ProviderError:
    return ProviderError(
        f"upstream returned HTTP {status}",
        status=status,
        retryable=status >= 500 or status == 429,
        retry_after=retry_after,
    )


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


async def no_sleep(_: float) -> None:
    """Backoff sleeps recorded nowhere and taking no time."""
    await asyncio.sleep(0)
