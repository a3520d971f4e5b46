"""Anthropic's Messages API behind the OpenAI-shaped provider interface.

Requests are translated by :mod:`socle.providers.anthropic_translate`, stream events by
:mod:`socle.providers.anthropic_stream`; this module only does the HTTP exchange (same pooling,
timeouts and error mapping as the OpenAI-compatible provider).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

import aiohttp
import orjson
from yarl import URL

from socle.providers.anthropic_stream import StreamTranslator
from socle.providers.anthropic_translate import (
    ANTHROPIC_VERSION,
    to_chat_completion,
    to_messages_request,
)
from socle.providers.base import Json, ProviderError
from socle.providers.endpoint import Endpoint
from socle.providers.failures import (
    bad_payload,
    cut_short,
    payload_error,
    status_error,
    stream_failures,
    transport_error,
)
from socle.providers.shapes import completion_as_chunks
from socle.providers.sse import read_events
from socle.providers.upstream import Target, UpstreamPool

DEFAULT_MAX_TOKENS = 4096


def _auth_headers(endpoint: Endpoint, secret: str | None) -> dict[str, str]:
    headers = {"anthropic-version": ANTHROPIC_VERSION}
    if secret is not None:
        headers["x-api-key"] = secret
    return headers


def _routes(endpoint: Endpoint) -> dict[str, URL]:
    return {"messages": URL(f"{(endpoint.base_url or '').rstrip('/')}/messages")}


class AnthropicProvider:
    """Client for Anthropic upstreams (base_url e.g. ``https://api.anthropic.com/v1``)."""

    def __init__(self, *, default_max_tokens: int = DEFAULT_MAX_TOKENS, trust_env: bool = False):
        """``default_max_tokens`` is sent when the request sets no limit (Anthropic needs one)."""
        self._default_max_tokens = default_max_tokens
        self._pool = UpstreamPool(auth_headers=_auth_headers, routes=_routes, trust_env=trust_env)

    async def chat(self, endpoint: Endpoint, body: Json) -> Json:
        """POST /messages and return the answer as an OpenAI ``chat.completion``."""
        request = to_messages_request(
            body, default_max_tokens=self._default_max_tokens, stream=False
        )
        target = await self._pool.target(endpoint)
        try:
            async with target.session.post(
                target.urls["messages"], data=orjson.dumps(request), headers=target.headers
            ) as resp:
                raw = await resp.read()
                if resp.status >= 300:
                    raise self._status_error(target, resp, raw)
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise transport_error(exc, host=target.host, phase="request") from exc
        return to_chat_completion(_message(raw, target))

    async def chat_stream(self, endpoint: Endpoint, body: Json) -> AsyncIterator[Json]:
        """POST /messages with ``stream: true``; yield OpenAI chunks translated from its events."""
        request = to_messages_request(
            body, default_max_tokens=self._default_max_tokens, stream=True
        )
        options = body.get("stream_options") or {}
        translator = StreamTranslator(
            model=body.get("model", endpoint.upstream_model),
            include_usage=bool(options.get("include_usage")),
        )
        target = await self._pool.target(endpoint)
        host = target.host
        with stream_failures(host):
            async with target.session.post(
                target.urls["messages"], data=orjson.dumps(request), headers=target.stream_headers
            ) as resp:
                if resp.status >= 300:
                    raise self._status_error(target, resp, await resp.read())
                if resp.content_type == "application/json":
                    answer = to_chat_completion(_message(await resp.read(), target))
                    for chunk in completion_as_chunks(answer):
                        yield chunk
                    return
                async with aclosing(read_events(resp.content.iter_any())) as events:
                    async for sse in events:
                        for chunk in translator.translate(_event(sse.data, target)):
                            yield chunk
                        if translator.finished:
                            return
                if not translator.finished:
                    raise cut_short(host, "message_stop")

    async def embeddings(self, endpoint: Endpoint, body: Json) -> Json:
        """Anthropic has no embeddings API: always a non-retryable 400."""
        raise ProviderError(
            "Anthropic offers no embeddings API; route embeddings to another provider",
            status=400,
            retryable=False,
        )

    async def close(self) -> None:
        """Close every pooled connection."""
        await self._pool.close()

    def _status_error(
        self, target: Target, resp: aiohttp.ClientResponse, raw: bytes
    ) -> ProviderError:
        if resp.status == 401:
            self._pool.forget_credential(target.endpoint)
        return status_error(resp.status, raw, resp.headers, host=target.host, secret=target.secret)


def _message(raw: bytes, target: Target) -> Json:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise bad_payload(target.host, "a body that is not JSON") from None
    if not isinstance(value, dict):
        raise bad_payload(target.host, "JSON that is not an object")
    if value.get("type") == "error":
        raise payload_error(value, host=target.host, secret=target.secret)
    if value.get("type") != "message":
        raise bad_payload(target.host, "JSON that is not a message")
    return value


def _event(data: bytes, target: Target) -> Json:
    """One decoded stream event; an ``error`` event becomes a ProviderError (529 retryable)."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise bad_payload(target.host, "malformed JSON in its event stream") from None
    if not isinstance(value, dict):
        raise bad_payload(target.host, "an event that is not a JSON object")
    if value.get("type") == "error":
        raise payload_error(value, host=target.host, secret=target.secret)
    return value
