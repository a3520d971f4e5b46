"""Mock OpenAI-compatible upstreams over real HTTP on 127.0.0.1, for the routing tests.

Each :class:`MockUpstream` is one server (one deployment) with a behaviour:

- ``ok``: answers chat (JSON or SSE) and embeddings;
- ``fail``: 503 with an OpenAI error body;
- ``rate_limited``: 429 with ``Retry-After``;
- ``slow``: waits ``delay`` seconds before answering;
- ``stall``: streams one chunk, then stays silent for ``delay`` seconds;
- ``reject``: 400 (the request itself is wrong).

``fail_first`` makes the first N requests fail with 503 whatever the behaviour. Every request
body is recorded in ``requests``.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Any, Literal

import orjson
from aiohttp import web

Behaviour = Literal["ok", "fail", "rate_limited", "slow", "stall", "reject"]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    body = {"error": {"message": message, "type": "server_error", "code": None}}
    return web.Response(
        status=status, body=orjson.dumps(body), content_type="application/json", headers=headers
    )


def _chunk(model: str, content: str | None, finish: str | None = None) -> bytes:
    delta = {"content": content} if content is not None else {}
    data = {
        "id": "chatcmpl-mock",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return b"data: " + orjson.dumps(data) + b"\n\n"


class MockUpstream:
    """One mock upstream server; use as ``async with MockUpstream("ok") as up: up.base_url``."""

    def __init__(
        self,
        behaviour: Behaviour = "ok",
        *,
        delay: float = 5.0,
        fail_first: int = 0,
        retry_after: str = "0",
        reply: str = "Bonjour",
    ) -> None:
        self.behaviour = behaviour
        self.delay = delay
        self.fail_first = fail_first
        self.retry_after = retry_after
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        self.base_url = ""

    async def __aenter__(self) -> MockUpstream:
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._runner.cleanup()

    def _misbehave(self) -> web.Response | None:
        """The error answer for this request, if it must fail before any content."""
        if len(self.requests) <= self.fail_first or self.behaviour == "fail":
            return _error(503, "model overloaded")
        if self.behaviour == "rate_limited":
            return _error(429, "slow down", {"Retry-After": self.retry_after})
        if self.behaviour == "reject":
            return _error(400, "maximum context length exceeded")
        return None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = orjson.loads(await request.read())
        self.requests.append(body)
        failure = self._misbehave()
        if failure is not None:
            return failure
        if self.behaviour == "slow":
            await asyncio.sleep(self.delay)
        model = body["model"]
        if not body.get("stream"):
            answer = {
                "id": "chatcmpl-mock",
                "object": "chat.completion",
                "created": 1,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
            }
            return web.Response(body=orjson.dumps(answer), content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(_chunk(model, self.reply[:3]))
        if self.behaviour == "stall":
            await asyncio.sleep(self.delay)
        await response.write(_chunk(model, self.reply[3:]))
        await response.write(_chunk(model, None, "stop"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        body = orjson.loads(await request.read())
        self.requests.append(body)
        failure = self._misbehave()
        if failure is not None:
            return failure
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        answer = {
            "object": "list",
            "model": body["model"],
            "data": [
                {"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
                for i in range(len(inputs))
            ],
            "usage": {"prompt_tokens": len(inputs), "total_tokens": len(inputs)},
        }
        return web.Response(body=orjson.dumps(answer), content_type="application/json")
