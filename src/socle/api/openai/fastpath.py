"""The hot path: ``POST /v1/chat/completions`` and ``POST /v1/embeddings`` as plain ASGI.

These two endpoints carry nearly all traffic, so they bypass FastAPI's routing, dependency and
middleware layers (about a tenth of a request's CPU in profiles): the handler reads the body
with a size limit, parses it once, validates it against the request schema and hands a
:class:`RequestContext` to the pipeline. Everything else goes to the FastAPI app, which also
documents these two endpoints in the OpenAPI schema (see :mod:`socle.api.openai.openapi`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import sys
from array import array
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import TypeAdapter

from socle.api.http import parse_json_object, validate
from socle.api.openai.schemas import ChatCompletionRequest, EmbeddingRequest
from socle.pipeline.context import RequestContext
from socle.pipeline.errors import GatewayError, InvalidRequest, PayloadTooLarge
from socle.pipeline.runner import InternalError

if TYPE_CHECKING:
    from socle.runtime import Gateway

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_chat = TypeAdapter(ChatCompletionRequest)
_embeddings = TypeAdapter(EmbeddingRequest)

JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class ClientGone(Exception):
    """The client disconnected while the request body was being read."""


class OpenAIFastPath:
    """ASGI wrapper: serves the two hot endpoints itself and passes everything else on."""

    def __init__(self, app: ASGIApp, gateway: Callable[[], Gateway]) -> None:
        self.app = app
        self.gateway = gateway
        self.routes: dict[str, Callable[[Gateway, Scope, Receive, Send], Awaitable[None]]] = {
            "/v1/chat/completions": chat_completions,
            "/v1/embeddings": embeddings,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # lifespan
            return
        gateway = self.gateway()
        if scope["method"] == "POST":
            handler = self.routes.get(scope["path"])
            if handler is not None:
                await handler(gateway, scope, receive, send)
                return
        limit = gateway.settings.server.max_body_bytes
        await self.app(scope, _limited(receive, limit), send)


def _limited(receive: Receive, limit: int) -> Receive:
    """A ``receive`` that refuses bodies over ``limit`` bytes (the admin API, for instance)."""
    size = 0

    async def wrapped() -> Message:
        nonlocal size
        message = await receive()
        size += len(message.get("body", b""))
        if size > limit:
            raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
        return message

    return wrapped


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}


async def _read_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidRequest("Content-Length header is not a number.")
        if int(declared) > limit:
            raise PayloadTooLarge(f"Request body of {declared} bytes exceeds the limit of {limit}.")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        if chunk:
            size += len(chunk)
            if size > limit:
                raise PayloadTooLarge(f"Request body exceeds the limit of {limit} bytes.")
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _encode_headers(extra: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]


async def _send_json(
    send: Send, status: int, content: dict[str, Any], extra: dict[str, str]
) -> None:
    body = orjson.dumps(content)
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode()), *_encode_headers(extra)]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_error(send: Send, error: GatewayError, request_id: str | None) -> None:
    extra = dict(error.headers)
    if request_id:
        extra["x-request-id"] = request_id
    await _send_json(send, error.status, error.body(), extra)


async def _prepare(
    gw: Gateway, scope: Scope, receive: Receive, endpoint: str, adapter: TypeAdapter[Any]
) -> RequestContext:
    headers = _headers(scope)
    raw = await _read_body(receive, headers, gw.settings.server.max_body_bytes)
    body = parse_json_object(raw)
    validate(adapter, body)
    client = scope.get("client")
    ctx = gw.new_context(headers, client[0] if client else None, endpoint, body)
    ctx.model = body["model"]
    ctx.stream = bool(body.get("stream"))
    return ctx


async def _serve(
    gw: Gateway,
    scope: Scope,
    receive: Receive,
    send: Send,
    endpoint: str,
    adapter: TypeAdapter[Any],
    respond: Callable[[Gateway, RequestContext, Receive, Send], Awaitable[None]],
) -> None:
    ctx: RequestContext | None = None
    try:
        ctx = await _prepare(gw, scope, receive, endpoint, adapter)
        await respond(gw, ctx, receive, send)
    except ClientGone:
        return
    except GatewayError as error:
        await _send_error(send, error, ctx.request_id if ctx else None)
    except Exception:
        log.exception("unhandled error on %s", scope["path"])
        await _send_error(
            send,
            InternalError("The server had an error while processing your request."),
            ctx.request_id if ctx else None,
        )


async def chat_completions(gw: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    await _serve(gw, scope, receive, send, "chat.completions", _chat, _respond_chat)


async def embeddings(gw: Gateway, scope: Scope, receive: Receive, send: Send) -> None:
    await _serve(gw, scope, receive, send, "embeddings", _embeddings, _respond_embeddings)


async def _respond_chat(gw: Gateway, ctx: RequestContext, receive: Receive, send: Send) -> None:
    if not ctx.stream:
        response = await gw.pipeline.run(ctx)
        ctx.response_headers["x-request-id"] = ctx.request_id
        await _send_json(send, 200, response, ctx.response_headers)
        return
    events = await gw.pipeline.open_stream(ctx)
    ctx.response_headers["x-request-id"] = ctx.request_id
    await _stream(events, ctx, receive, send)


async def _stream(
    events: AsyncIterator[bytes], ctx: RequestContext, receive: Receive, send: Send
) -> None:
    """Send SSE events; a client disconnect stops the upstream and still runs ``finish``."""
    headers = [*SSE_HEADERS, *_encode_headers(ctx.response_headers)]
    await send({"type": "http.response.start", "status": 200, "headers": headers})

    async def pump() -> None:
        async for event in events:
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def watch() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    sender = asyncio.ensure_future(pump())
    watcher = asyncio.ensure_future(watch())
    try:
        await asyncio.wait({sender, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        if not sender.done():
            sender.cancel()  # the client left: stop reading the upstream
        try:
            await sender
        except asyncio.CancelledError:
            pass
        except Exception:
            # The client went away mid-send (uvicorn raises on a closed transport).
            log.debug("stream send ended early for %s", ctx.request_id, exc_info=True)
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()  # runs the pipeline's finish (release, audit) if still pending


async def _respond_embeddings(
    gw: Gateway, ctx: RequestContext, receive: Receive, send: Send
) -> None:
    wants_base64 = ctx.body.get("encoding_format") == "base64"
    if wants_base64:
        # Upstreams are always asked for floats; the gateway encodes, so every provider works.
        ctx.body.pop("encoding_format")
    response = await gw.pipeline.run(ctx)
    if wants_base64:
        for item in response.get("data", ()):
            item["embedding"] = encode_base64(item["embedding"])
    ctx.response_headers["x-request-id"] = ctx.request_id
    await _send_json(send, 200, response, ctx.response_headers)


def encode_base64(vector: list[float]) -> str:
    """Little-endian float32, base64: what OpenAI returns for encoding_format=base64."""
    packed = array("f", vector)
    if sys.byteorder != "little":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")
