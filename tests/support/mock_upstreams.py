"""Real HTTP mock upstreams for tests: an OpenAI-compatible server and an Anthropic server.

Both listen on 127.0.0.1 on an ephemeral port, answer like the real APIs (JSON and event
streams), record every request, and can be scripted to misbehave. Use them as async context
managers::

    async with OpenAIMockUpstream() as up:
        endpoint = Endpoint(provider="openai_compat", upstream_model="m", base_url=up.base_url)
        up.enqueue(Reply(status=429, headers={"Retry-After": "2"}))   # the next request fails
        ...
        assert up.requests[-1].body["model"] == "m"

Scripting: ``enqueue(*replies)`` queues one-shot :class:`Reply` values used by the next
requests in order; when the queue is empty ``up.default`` answers. A :class:`Reply` says what
the answer contains (text, tool calls, finish reason, usage) and how it misbehaves (status,
delay before headers, stall or disconnect after k chunks, error event, malformed data, byte
fragmentation, CRLF line ends, keep-alive comments, missing ``[DONE]``).

Routes. OpenAI mock: ``POST …/chat/completions``, ``POST …/embeddings`` (any prefix, so Azure's
``/openai/deployments/<name>/…`` works too), ``GET …/models``; ``base_url`` is ``…/v1``.
Anthropic mock: ``POST /v1/messages``; ``base_url`` is ``…/v1``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web

Json = dict[str, Any]

__all__ = [
    "AnthropicMockUpstream",
    "OpenAIMockUpstream",
    "RecordedRequest",
    "Reply",
    "ToolCall",
]


@dataclass(frozen=True)
class ToolCall:
    """A tool call the mock model makes (``arguments`` is sent as a JSON object/string)."""

    name: str
    arguments: Json = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Defaults give a well-behaved 200 answer."""

    # What the answer says.
    text: str | None = None  # None: the upstream's reply_text
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None  # None: "stop", or "tool_calls" when tool_calls are given
    usage: Json | None = None  # None: computed (OpenAI) / input+output tokens (Anthropic)
    # How it fails.
    status: int = 200
    error: Json | None = None  # error body for status >= 400 (None: the API's usual shape)
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    delay: float = 0.0  # seconds before the response headers
    # How a stream misbehaves (k counts the data events already sent).
    chunk_delay: float = 0.0  # seconds between events
    stall_after: int | None = None  # stop sending (but keep the connection) after k events
    stall_for: float = 30.0
    disconnect_after: int | None = None  # drop the connection after k events
    error_after: int | None = None  # send an error event after k events, then end
    malformed_after: int | None = None  # send a data line that is not JSON after k events
    split_bytes: int | None = None  # write the body in pieces of this many bytes
    line_ending: str = "\n"  # "\r\n" or "\r" to test line-end handling
    comments: bool = False  # interleave ": keep-alive" comment lines
    no_space: bool = False  # "data:{...}" instead of "data: {...}"
    omit_done: bool = False  # OpenAI: no final "data: [DONE]"
    json_for_stream: bool = False  # answer a stream request with a JSON body


@dataclass(frozen=True)
class RecordedRequest:
    """What the mock received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any  # parsed JSON, or None
    raw: bytes
    received_at: float
    peer: tuple[str, int] | None  # client address: equal ports mean a reused connection


class _MockUpstream:
    """Lifecycle, recording and scripting shared by both mocks."""

    def __init__(self, *, reply_text: str, api_key: str | None) -> None:
        self.reply_text = reply_text
        self.api_key = api_key  # when set, requests without it get a 401
        self.default = Reply()
        self.requests: list[RecordedRequest] = []
        self._queue: deque[Reply] = deque()
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._served = 0
        self.port = 0

    @property
    def base_url(self) -> str:
        """The URL to put in ``Endpoint.base_url``."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` (for Azure-style deployment paths)."""
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order, then with ``default``."""
        self._queue.extend(replies)

    @property
    def last(self) -> RecordedRequest:
        """The most recent request."""
        return self.requests[-1]

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def close(self) -> None:
        """Stop listening and wake every stalled handler."""
        self._closing.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> _MockUpstream:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            body = None
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                raw=raw,
                received_at=time.monotonic(),
                peer=request.transport.get_extra_info("peername") if request.transport else None,
            )
        )
        reply = self._queue.popleft() if self._queue else self.default
        if reply.delay:
            await self._pause(reply.delay)
        if self.api_key is not None and not self._authorised(request):
            return self._error(401, self._auth_error(request), {})
        if reply.status >= 300:
            return self._error(
                reply.status, reply.error or self._error_body(reply.status), reply.headers
            )
        return await self._route(request, body if isinstance(body, dict) else {}, reply)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    def _error(self, status: int, body: Json, headers: dict[str, str]) -> web.Response:
        return web.Response(
            status=status, body=orjson.dumps(body), content_type="application/json", headers=headers
        )

    async def _stream(
        self, request: web.Request, reply: Reply, events: list[bytes]
    ) -> web.StreamResponse:
        """Send pre-encoded events with the misbehaviours ``reply`` asks for."""
        response = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                **reply.headers,
            },
        )
        await response.prepare(request)
        end = reply.line_ending.encode()
        for sent, event in enumerate(events):
            if sent == reply.stall_after:
                await self._pause(reply.stall_for)
            if sent == reply.disconnect_after:
                assert request.transport is not None
                request.transport.close()
                return response
            if sent == reply.error_after:
                await self._write(response, reply, self._stream_error_event(end))
                await response.write_eof()
                return response
            if sent == reply.malformed_after:
                await self._write(response, reply, b"data: {not json" + end + end)
            if reply.comments:
                await self._write(response, reply, b": keep-alive" + end)
            if reply.no_space:
                event = event.replace(b"data: ", b"data:")
            await self._write(response, reply, event.replace(b"\n", end))
            if reply.chunk_delay:
                await asyncio.sleep(reply.chunk_delay)
        await response.write_eof()
        return response

    @staticmethod
    async def _write(response: web.StreamResponse, reply: Reply, data: bytes) -> None:
        if not reply.split_bytes:
            await response.write(data)
            return
        for i in range(0, len(data), reply.split_bytes):
            await response.write(data[i : i + reply.split_bytes])
            await asyncio.sleep(0.001)  # let the pieces reach the client as separate reads

    def _authorised(self, request: web.Request) -> bool:
        raise NotImplementedError

    def _auth_error(self, request: web.Request) -> Json:
        raise NotImplementedError

    def _error_body(self, status: int) -> Json:
        raise NotImplementedError

    def _stream_error_event(self, end: bytes) -> bytes:
        raise NotImplementedError

    async def _route(self, request: web.Request, body: Json, reply: Reply) -> web.StreamResponse:
        raise NotImplementedError


def _tokens(text: str) -> int:
    return (len(text) + 3) // 4


def _words(text: str, per_piece: int = 2) -> list[str]:
    words = text.split(" ")
    return [
        " ".join(words[i : i + per_piece]) + (" " if i + per_piece < len(words) else "")
        for i in range(0, len(words), per_piece)
    ]


class OpenAIMockUpstream(_MockUpstream):
    """An OpenAI-compatible upstream (chat completions JSON + SSE, embeddings, models)."""

    def __init__(
        self,
        *,
        reply_text: str = "Hello from the mock upstream.",
        api_key: str | None = None,
        embedding_dimensions: int = 8,
    ) -> None:
        super().__init__(reply_text=reply_text, api_key=api_key)
        self.embedding_dimensions = embedding_dimensions

    async def __aenter__(self) -> OpenAIMockUpstream:
        await self.start()
        return self

    def _authorised(self, request: web.Request) -> bool:
        return (
            request.headers.get("Authorization") == f"Bearer {self.api_key}"
            or request.headers.get("api-key") == self.api_key
        )

    def _auth_error(self, request: web.Request) -> Json:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return _openai_error(
            f"Incorrect API key provided: {given}.", "invalid_request_error", "invalid_api_key"
        )

    def _error_body(self, status: int) -> Json:
        kind = (
            "rate_limit_exceeded"
            if status == 429
            else "server_error"
            if status >= 500
            else "invalid_request_error"
        )
        return _openai_error(f"mock upstream error {status}", kind, None)

    def _stream_error_event(self, end: bytes) -> bytes:
        error = _openai_error("The mock upstream failed mid-stream.", "server_error", None)
        return b"data: " + orjson.dumps(error) + end + end

    async def _route(self, request: web.Request, body: Json, reply: Reply) -> web.StreamResponse:
        path = request.path.rstrip("/")
        if request.method == "POST" and path.endswith("/chat/completions"):
            if body.get("stream") and not reply.json_for_stream:
                return await self._stream(request, reply, self._chunks(body, reply))
            return web.Response(
                body=orjson.dumps(self._completion(body, reply)),
                content_type="application/json",
                headers=reply.headers,
            )
        if request.method == "POST" and path.endswith("/embeddings"):
            return web.Response(
                body=orjson.dumps(self._embeddings(body)),
                content_type="application/json",
                headers=reply.headers,
            )
        if request.method == "GET" and path.endswith("/models"):
            models = {
                "object": "list",
                "data": [{"id": "mock-model", "object": "model", "created": 0, "owned_by": "mock"}],
            }
            return web.Response(body=orjson.dumps(models), content_type="application/json")
        return self._error(
            404,
            _openai_error(
                f"no route {request.method} {request.path}", "invalid_request_error", None
            ),
            {},
        )

    def _usage(self, body: Json, reply: Reply, text: str) -> Json:
        if reply.usage is not None:
            return reply.usage
        prompt = _tokens(orjson.dumps(body.get("messages", [])).decode())
        completion = _tokens(text)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def _completion(self, body: Json, reply: Reply) -> Json:
        text = self.reply_text if reply.text is None else reply.text
        message: Json = {
            "role": "assistant",
            "content": None if reply.tool_calls else text,
            "refusal": None,
        }
        if reply.tool_calls:
            message["tool_calls"] = [_openai_call(i, c) for i, c in enumerate(reply.tool_calls)]
        finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
        n = int(body.get("n") or 1)
        return {
            "id": "chatcmpl-mock",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "mock-model"),
            "choices": [
                {"index": i, "message": message, "finish_reason": finish, "logprobs": None}
                for i in range(n)
            ],
            "usage": self._usage(body, reply, text),
            "system_fingerprint": "fp_mock",
        }

    def _chunks(self, body: Json, reply: Reply) -> list[bytes]:
        text = self.reply_text if reply.text is None else reply.text
        head = {
            "id": "chatcmpl-mock",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": body.get("model", "mock-model"),
        }

        def event(delta: Json, finish: str | None = None) -> bytes:
            chunk = {
                **head,
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
                ],
            }
            return b"data: " + orjson.dumps(chunk) + b"\n\n"

        events = [event({"role": "assistant", "content": ""})]
        if reply.tool_calls:
            for i, call in enumerate(reply.tool_calls):
                full = _openai_call(i, call)
                arguments = full["function"]["arguments"]
                events.append(
                    event(
                        {
                            "tool_calls": [
                                {
                                    "index": i,
                                    "id": full["id"],
                                    "type": "function",
                                    "function": {"name": call.name, "arguments": ""},
                                }
                            ]
                        }
                    )
                )
                half = len(arguments) // 2
                for piece in (arguments[:half], arguments[half:]):
                    events.append(
                        event({"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
                    )
        else:
            events.extend(event({"content": piece}) for piece in _words(text))
        events.append(
            event({}, reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop"))
        )
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append(
                b"data: "
                + orjson.dumps({**head, "choices": [], "usage": self._usage(body, reply, text)})
                + b"\n\n"
            )
        if not reply.omit_done:
            events.append(b"data: [DONE]\n\n")
        return events

    def _embeddings(self, body: Json) -> Json:
        value = body.get("input")
        inputs = (
            [value]
            if isinstance(value, str)
            or (isinstance(value, list) and value and isinstance(value[0], int))
            else list(value or [])
        )
        dimensions = int(body.get("dimensions") or self.embedding_dimensions)
        data = []
        for index, item in enumerate(inputs):
            seed = len(str(item))
            vector = [((seed + i) % 7) / 7.0 for i in range(dimensions)]
            embedding: Any = vector
            if body.get("encoding_format") == "base64":  # what a real upstream would do
                embedding = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        tokens = sum(_tokens(str(item)) for item in inputs)
        return {
            "object": "list",
            "data": data,
            "model": body.get("model", "mock-embed"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }


def _openai_error(message: str, kind: str, code: str | None) -> Json:
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def _openai_call(index: int, call: ToolCall) -> Json:
    return {
        "id": call.id or f"call_mock{index}",
        "type": "function",
        "function": {"name": call.name, "arguments": orjson.dumps(call.arguments).decode()},
    }


class AnthropicMockUpstream(_MockUpstream):
    """An Anthropic Messages API upstream (JSON and the real event sequence)."""

    def __init__(
        self, *, reply_text: str = "Hello from the mock Claude.", api_key: str | None = None
    ) -> None:
        super().__init__(reply_text=reply_text, api_key=api_key)

    async def __aenter__(self) -> AnthropicMockUpstream:
        await self.start()
        return self

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("x-api-key") == self.api_key

    def _auth_error(self, request: web.Request) -> Json:
        return _anthropic_error("authentication_error", "invalid x-api-key")

    def _error_body(self, status: int) -> Json:
        kinds = {
            400: "invalid_request_error",
            401: "authentication_error",
            403: "permission_error",
            404: "not_found_error",
            413: "request_too_large",
            429: "rate_limit_error",
            529: "overloaded_error",
        }
        kind = kinds.get(status, "api_error")
        return _anthropic_error(
            kind, "Overloaded" if status == 529 else f"mock upstream error {status}"
        )

    def _stream_error_event(self, end: bytes) -> bytes:
        payload = orjson.dumps(_anthropic_error("overloaded_error", "Overloaded"))
        return b"event: error" + end + b"data: " + payload + end + end

    async def _route(self, request: web.Request, body: Json, reply: Reply) -> web.StreamResponse:
        if request.method != "POST" or request.path.rstrip("/") != "/v1/messages":
            return self._error(
                404, _anthropic_error("not_found_error", f"no route {request.path}"), {}
            )
        if body.get("stream") and not reply.json_for_stream:
            return await self._stream(request, reply, self._events(body, reply))
        return web.Response(
            body=orjson.dumps(self._message(body, reply)),
            content_type="application/json",
            headers=reply.headers,
        )

    def _blocks(self, reply: Reply) -> list[Json]:
        text = self.reply_text if reply.text is None else reply.text
        blocks: list[Json] = [{"type": "text", "text": text}] if text else []
        for i, call in enumerate(reply.tool_calls):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": call.id or f"toolu_mock{i}",
                    "name": call.name,
                    "input": call.arguments,
                }
            )
        return blocks

    def _usage(self, body: Json, reply: Reply) -> Json:
        if reply.usage is not None:
            return reply.usage
        text = self.reply_text if reply.text is None else reply.text
        return {
            "input_tokens": _tokens(orjson.dumps(body.get("messages", [])).decode()),
            "output_tokens": _tokens(text),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }

    def _stop_reason(self, reply: Reply) -> str:
        return reply.finish_reason or ("tool_use" if reply.tool_calls else "end_turn")

    def _message(self, body: Json, reply: Reply) -> Json:
        return {
            "id": "msg_mock",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-mock"),
            "content": self._blocks(reply),
            "stop_reason": self._stop_reason(reply),
            "stop_sequence": None,
            "usage": self._usage(body, reply),
        }

    def _events(self, body: Json, reply: Reply) -> list[bytes]:
        def event(name: str, data: Json) -> bytes:
            return f"event: {name}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"

        usage = self._usage(body, reply)
        start = {
            **self._message(body, reply),
            "content": [],
            "stop_reason": None,
            "usage": {**usage, "output_tokens": 1},
        }
        events = [
            event("message_start", {"type": "message_start", "message": start}),
            event("ping", {"type": "ping"}),
        ]
        for index, block in enumerate(self._blocks(reply)):
            if block["type"] == "text":
                events.append(
                    event(
                        "content_block_start",
                        {
                            "type": "content_block_start",
                            "index": index,
                            "content_block": {"type": "text", "text": ""},
                        },
                    )
                )
                for piece in _words(block["text"]):
                    events.append(
                        event(
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": index,
                                "delta": {"type": "text_delta", "text": piece},
                            },
                        )
                    )
            else:
                empty = {**block, "input": {}}
                events.append(
                    event(
                        "content_block_start",
                        {"type": "content_block_start", "index": index, "content_block": empty},
                    )
                )
                arguments = orjson.dumps(block["input"]).decode()
                half = len(arguments) // 2
                for piece in (arguments[:half], arguments[half:]):
                    events.append(
                        event(
                            "content_block_delta",
                            {
                                "type": "content_block_delta",
                                "index": index,
                                "delta": {"type": "input_json_delta", "partial_json": piece},
                            },
                        )
                    )
            events.append(
                event("content_block_stop", {"type": "content_block_stop", "index": index})
            )
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": self._stop_reason(reply), "stop_sequence": None},
            "usage": {"output_tokens": usage.get("output_tokens", 0)},
        }
        events.append(event("message_delta", delta))
        events.append(event("message_stop", {"type": "message_stop"}))
        return events


def _anthropic_error(kind: str, message: str) -> Json:
    return {"type": "error", "error": {"type": kind, "message": message}}
