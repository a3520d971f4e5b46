"""The pipeline runner: stage order, error paths, finish always runs, stream fallback window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from socle.pipeline.context import Classification, RequestContext
from socle.pipeline.errors import BudgetExceeded, GatewayError, ServiceUnavailable, UpstreamError
from socle.pipeline.runner import InternalError, Pipeline
from socle.pipeline.stage import Chunk, Stage


class Recorder(Stage):
    def __init__(self, name: str, log: list[str], fail_before: GatewayError | None = None) -> None:
        self.name = name
        self.log = log
        self.fail_before = fail_before

    async def before_call(self, ctx: RequestContext) -> None:
        self.log.append(f"{self.name}.before")
        if self.fail_before is not None:
            raise self.fail_before

    async def on_response(self, ctx: RequestContext, response: dict[str, Any]) -> dict[str, Any]:
        self.log.append(f"{self.name}.response")
        response.setdefault("seen", []).append(self.name)
        return response

    def wrap_stream(
        self, ctx: RequestContext, chunks: AsyncIterator[Chunk]
    ) -> AsyncIterator[Chunk]:
        async def wrapped() -> AsyncIterator[Chunk]:
            async for chunk in chunks:
                chunk.setdefault("seen", []).append(self.name)
                yield chunk

        return wrapped()

    async def finish(self, ctx: RequestContext, error: GatewayError | None) -> None:
        self.log.append(f"{self.name}.finish:{error.code if error else 'ok'}")


class FakeDispatcher:
    def __init__(self, *, fail: Exception | None = None, chunks: int = 3) -> None:
        self.fail = fail
        self.chunks = chunks

    async def chat(self, ctx: RequestContext) -> dict[str, Any]:
        if self.fail:
            raise self.fail
        return {"object": "chat.completion"}

    async def embeddings(self, ctx: RequestContext) -> dict[str, Any]:
        return {"object": "list"}

    async def chat_stream(self, ctx: RequestContext) -> AsyncIterator[Chunk]:
        if self.fail:
            raise self.fail
        for i in range(self.chunks):
            yield {"i": i}


def context() -> RequestContext:
    return RequestContext(request_id="r1", endpoint="chat.completions", body={}, headers={})


async def test_stages_run_in_order_and_finish_in_stage_order() -> None:
    log: list[str] = []
    pipeline = Pipeline([Recorder("a", log), Recorder("b", log)], FakeDispatcher())
    response = await pipeline.run(context())
    assert response["seen"] == ["a", "b"]
    assert log == [
        "a.before",
        "b.before",
        "a.response",
        "b.response",
        "a.finish:ok",
        "b.finish:ok",
    ]


async def test_refusal_stops_before_the_call_and_finishes_started_stages() -> None:
    log: list[str] = []
    stages = [Recorder("a", log), Recorder("b", log, BudgetExceeded("no")), Recorder("c", log)]
    ctx = context()
    with pytest.raises(BudgetExceeded):
        await Pipeline(stages, FakeDispatcher()).run(ctx)
    assert log == ["a.before", "b.before", "a.finish:budget_exceeded", "b.finish:budget_exceeded"]
    assert ctx.status == 429 and ctx.error_code == "budget_exceeded"


async def test_unexpected_errors_become_opaque_500() -> None:
    log: list[str] = []
    pipeline = Pipeline([Recorder("a", log)], FakeDispatcher(fail=RuntimeError("secret detail")))
    with pytest.raises(InternalError) as info:
        await pipeline.run(context())
    assert "secret detail" not in info.value.message
    assert log[-1] == "a.finish:internal_error"


async def test_stream_errors_before_first_chunk_are_raised_not_streamed() -> None:
    log: list[str] = []
    pipeline = Pipeline([Recorder("a", log)], FakeDispatcher(fail=UpstreamError("down")))
    with pytest.raises(UpstreamError):
        await pipeline.open_stream(context())
    assert log == ["a.before", "a.finish:upstream_error"]


async def test_stream_relays_sse_and_finishes_once() -> None:
    log: list[str] = []
    ctx = context()
    events = await Pipeline([Recorder("a", log)], FakeDispatcher(chunks=2)).open_stream(ctx)
    body = b"".join([e async for e in events])
    parts = [p for p in body.split(b"\n\n") if p]
    assert parts[-1] == b"data: [DONE]"
    assert [orjson.loads(p.removeprefix(b"data: ")) for p in parts[:-1]] == [
        {"i": 0, "seen": ["a"]},
        {"i": 1, "seen": ["a"]},
    ]
    assert ctx.first_byte_sent
    assert log.count("a.finish:ok") == 1


async def test_stream_consumer_going_away_still_finishes() -> None:
    log: list[str] = []
    ctx = context()
    events = await Pipeline([Recorder("a", log)], FakeDispatcher(chunks=10)).open_stream(ctx)
    await anext(events)
    await events.aclose()  # type: ignore[attr-defined]
    assert log[-1] == "a.finish:client_disconnected"


def test_classification_only_rises() -> None:
    ctx = context()
    ctx.raise_classification(Classification.CONFIDENTIAL, "nir")
    ctx.raise_classification(Classification.PUBLIC, "header")
    assert ctx.classification is Classification.CONFIDENTIAL
    assert ctx.classification_reasons == ["nir"]
    assert Classification.parse("Secret") is Classification.SECRET
    with pytest.raises(ValueError):
        Classification.parse("top")


class FailingFinish(Stage):
    name = "audit"

    async def finish(self, ctx: RequestContext, error: GatewayError | None) -> None:
        raise ServiceUnavailable("the audit record could not be committed")


async def test_a_finish_error_refuses_to_acknowledge() -> None:
    log: list[str] = []
    pipeline = Pipeline([FailingFinish(), Recorder("a", log)], FakeDispatcher())
    with pytest.raises(ServiceUnavailable):
        await pipeline.run(context())
    assert log[-1] == "a.finish:ok"  # the other stages still finished (release, ...)
